-- Published pages (the storefront and product pages) are rendered once and
-- served from memory until something they show changes. Every such change
-- notifies `repopass_pages` when it commits, whichever code made it, and
-- every instance listens (server/src/page_version.rs). A notification
-- takes no lock: concurrent edits do not queue behind one another.
CREATE FUNCTION page_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_notify('repopass_pages', ''); RETURN NULL; END $$;

CREATE TRIGGER page_version_products AFTER INSERT OR UPDATE OR DELETE ON products
FOR EACH STATEMENT EXECUTE FUNCTION page_version_bump();
CREATE TRIGGER page_version_prices AFTER INSERT OR UPDATE OR DELETE ON prices
FOR EACH STATEMENT EXECUTE FUNCTION page_version_bump();
CREATE TRIGGER page_version_product_repositories AFTER INSERT OR UPDATE OR DELETE ON product_repositories
FOR EACH STATEMENT EXECUTE FUNCTION page_version_bump();
-- A repository's name and whether GitHub still lets it be sold show on its pages.
CREATE TRIGGER page_version_repositories AFTER INSERT OR DELETE OR UPDATE OF owner, name, owner_is_org, github_state
ON repositories FOR EACH STATEMENT EXECUTE FUNCTION page_version_bump();
-- The sandbox's clock: "until …, if you buy today" follows it.
CREATE TRIGGER page_version_clock AFTER INSERT OR UPDATE ON sandbox_state
FOR EACH ROW WHEN (NEW.key = 'clock_offset') EXECUTE FUNCTION page_version_bump();
