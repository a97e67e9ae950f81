//! Cover images: checked by their bytes (PNG, JPEG or WebP, 2 MB at most),
//! stored under `REPOPASS_DATA_DIR/covers` named by their content hash, so
//! a file never changes once served and can be cached for a year.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::{clock, products, Db, Error, Result};

pub const MAX_BYTES: usize = 2 * 1024 * 1024;

pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("covers")
}

/// The extension for an accepted image type, from its leading bytes.
fn kind(bytes: &[u8]) -> Result<&'static str> {
    match infer::get(bytes).map(|t| t.mime_type()) {
        Some("image/png") => Ok("png"),
        Some("image/jpeg") => Ok("jpg"),
        Some("image/webp") => Ok("webp"),
        Some(other) => Err(Error::invalid("cover", format!("this file is {other}; upload a PNG, JPEG or WebP image"))),
        None => Err(Error::invalid(
            "cover",
            "this file is not an image RepoPass recognises; upload a PNG, JPEG or WebP image",
        )),
    }
}

/// Is `name` one of ours (`<32 hex>.<ext>`)? Anything else is not served.
pub fn is_cover_name(name: &str) -> bool {
    let Some((stem, ext)) = name.split_once('.') else { return false };
    stem.len() == 32
        && stem.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        && matches!(ext, "png" | "jpg" | "webp")
}

/// Stores the image and makes it the product's cover; returns its name.
pub async fn save(db: &Db, data_dir: &Path, product_id: crate::domain::ProductId, bytes: &[u8]) -> Result<String> {
    if bytes.is_empty() {
        return Err(Error::invalid("cover", "choose an image file to upload"));
    }
    if bytes.len() > MAX_BYTES {
        return Err(Error::invalid(
            "cover",
            format!("the image is {:.1} MB; the limit is 2 MB", bytes.len() as f64 / 1_048_576.0),
        ));
    }
    let ext = kind(bytes)?;
    products::get(db, product_id).await?;
    let hash = hex::encode(&Sha256::digest(bytes)[..16]);
    let name = format!("{hash}.{ext}");
    let dir = dir(data_dir);
    let io = |e: std::io::Error| Error::Internal(format!("cover image in {}: {e}", dir.display()));
    tokio::fs::create_dir_all(&dir).await.map_err(io)?;
    let path = dir.join(&name);
    if tokio::fs::metadata(&path).await.is_err() {
        // Write then rename: a reader never sees half a file.
        let tmp = dir.join(format!(".{name}.{}", std::process::id()));
        tokio::fs::write(&tmp, bytes).await.map_err(io)?;
        tokio::fs::rename(&tmp, &path).await.map_err(io)?;
    }
    sqlx::query("UPDATE products SET cover_image = $2, updated_at = $3 WHERE id = $1")
        .bind(product_id)
        .bind(&name)
        .bind(clock::now())
        .execute(db.pool())
        .await?;
    Ok(name)
}

/// Removes the cover from the page (the file stays: another page may share it).
pub async fn clear(db: &Db, product_id: crate::domain::ProductId) -> Result<()> {
    let done = sqlx::query("UPDATE products SET cover_image = NULL, updated_at = $2 WHERE id = $1")
        .bind(product_id)
        .bind(clock::now())
        .execute(db.pool())
        .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_images_by_their_bytes() {
        assert_eq!(kind(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap(), "png");
        assert_eq!(kind(b"\xff\xd8\xff\xe0\0\x10JFIF\0").unwrap(), "jpg");
        assert!(kind(b"GIF89a....").is_err());
        assert!(kind(b"<svg xmlns='http://www.w3.org/2000/svg'/>").is_err());
        assert!(kind(b"just text").is_err());
    }

    #[test]
    fn serves_only_its_own_names() {
        assert!(is_cover_name("0123456789abcdef0123456789abcdef.png"));
        for bad in [
            "../etc/passwd",
            "0123456789abcdef0123456789abcdef.svg",
            "0123456789ABCDEF0123456789abcdef.png",
            "x.png",
            "0123456789abcdef0123456789abcdef",
        ] {
            assert!(!is_cover_name(bad), "{bad}");
        }
    }
}
