//! Creator-written Markdown to safe HTML: pulldown-cmark renders, ammonia
//! removes anything that could run script or break out of the page.

use pulldown_cmark::{html, Options, Parser};

pub fn to_safe_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(markdown, options));
    ammonia::Builder::default().link_rel(Some("noopener noreferrer nofollow")).clean(&unsafe_html).to_string()
}

#[cfg(test)]
mod tests {
    use super::to_safe_html;

    #[test]
    fn renders_markdown_and_removes_script() {
        let html = to_safe_html("# Pro Kit\n\n**Everything** you need.\n\n<script>alert(1)</script>\n\n[docs](javascript:alert(1)) <img src=x onerror=alert(1)>");
        assert!(html.contains("<h1>Pro Kit</h1>"));
        assert!(html.contains("<strong>Everything</strong>"));
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
    }
}
