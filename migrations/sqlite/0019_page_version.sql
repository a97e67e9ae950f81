-- Published pages (the storefront and product pages) are rendered once and
-- served from memory until something they show changes (server/src/page_version.rs).
-- Every such change bumps this counter in its own transaction, whichever
-- code made it, so an instance that reads a new version knows its rendered
-- pages are stale.
-- (A migration that rebuilds one of these tables must make its triggers again.)
CREATE TABLE page_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT  NOT NULL
);
INSERT INTO page_version (id, version) VALUES (1, 0);

CREATE TRIGGER page_version_products_insert AFTER INSERT ON products
BEGIN UPDATE page_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER page_version_products_update AFTER UPDATE ON products
BEGIN UPDATE page_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER page_version_products_delete AFTER DELETE ON products
BEGIN UPDATE page_version SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER page_version_prices_insert AFTER INSERT ON prices
BEGIN UPDATE page_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER page_version_prices_update AFTER UPDATE ON prices
BEGIN UPDATE page_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER page_version_prices_delete AFTER DELETE ON prices
BEGIN UPDATE page_version SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER page_version_product_repositories_insert AFTER INSERT ON product_repositories
BEGIN UPDATE page_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER page_version_product_repositories_update AFTER UPDATE ON product_repositories
BEGIN UPDATE page_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER page_version_product_repositories_delete AFTER DELETE ON product_repositories
BEGIN UPDATE page_version SET version = version + 1 WHERE id = 1; END;

-- A repository's name and whether GitHub still lets it be sold show on its pages.
CREATE TRIGGER page_version_repositories_insert AFTER INSERT ON repositories
BEGIN UPDATE page_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER page_version_repositories_update AFTER UPDATE OF owner, name, owner_is_org, github_state ON repositories
BEGIN UPDATE page_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER page_version_repositories_delete AFTER DELETE ON repositories
BEGIN UPDATE page_version SET version = version + 1 WHERE id = 1; END;

-- The sandbox's clock: "until …, if you buy today" follows it.
CREATE TRIGGER page_version_clock_insert AFTER INSERT ON sandbox_state WHEN NEW.key = 'clock_offset'
BEGIN UPDATE page_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER page_version_clock_update AFTER UPDATE ON sandbox_state WHEN NEW.key = 'clock_offset'
BEGIN UPDATE page_version SET version = version + 1 WHERE id = 1; END;
