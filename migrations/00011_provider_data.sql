-- What the data harvester fetches from outside providers (FMP, Polygon,
-- FRED, NewsAPI) is stored with the provider it came from and when it was
-- fetched, so later runs work offline from the stored rows; a log of every
-- fetch (also of one that returned nothing) tells a capability whether its
-- stored data are fresh or must be fetched again.

-- +goose Up
-- source is the provider of a fetched close ('fmp', 'polygon'); NULL for
-- closes loaded by the pack builder (seed, import).
ALTER TABLE prices ADD COLUMN source text CHECK (source <> '');
ALTER TABLE prices ADD COLUMN fetched_at timestamptz;
ALTER TABLE prices ADD CONSTRAINT prices_fetched_has_source CHECK (fetched_at IS NULL OR source IS NOT NULL);

-- fetched_at is NULL for rows that were loaded, not fetched (seed, import).
ALTER TABLE fundamentals ADD COLUMN fetched_at timestamptz;
ALTER TABLE corporate_actions ADD COLUMN fetched_at timestamptz;
ALTER TABLE macro_indicators ADD COLUMN fetched_at timestamptz;

-- news_items.source is the publisher; provider is the API the item was
-- fetched from ('newsapi', 'polygon'), NULL for loaded items.
ALTER TABLE news_items ADD COLUMN provider text CHECK (provider ~ '^[a-z][a-z0-9_]*$');
ALTER TABLE news_items ADD COLUMN fetched_at timestamptz;
ALTER TABLE news_items ADD CONSTRAINT news_items_fetched_has_provider CHECK ((provider IS NULL) = (fetched_at IS NULL));

-- Annual financial ratios as a provider reports them (decimals: 0.15 is
-- 15 %), next to the statements they are computed from. NULL is a ratio
-- the provider did not report; NaN is refused (PostgreSQL holds NaN equal
-- to itself, so the check names it).
CREATE TABLE fundamental_ratios (
    security_id       uuid             NOT NULL REFERENCES securities (id),
    fiscal_year       int              NOT NULL CHECK (fiscal_year BETWEEN 1900 AND 2200),
    period_end        date             NOT NULL,
    currency          text             CHECK (currency ~ '^[A-Z]{3}$'),
    gross_margin      double precision CHECK (gross_margin <> 'NaN'),
    operating_margin  double precision CHECK (operating_margin <> 'NaN'),
    net_margin        double precision CHECK (net_margin <> 'NaN'),
    current_ratio     double precision CHECK (current_ratio <> 'NaN'),
    debt_to_equity    double precision CHECK (debt_to_equity <> 'NaN'),
    interest_coverage double precision CHECK (interest_coverage <> 'NaN'),
    payout_ratio      double precision CHECK (payout_ratio <> 'NaN'),
    dividend_yield    double precision CHECK (dividend_yield <> 'NaN'),
    source            text             NOT NULL CHECK (source <> ''),
    fetched_at        timestamptz      NOT NULL,
    created_at        timestamptz      NOT NULL DEFAULT now(),
    updated_at        timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (security_id, fiscal_year)
);

-- One row per provider, dataset and subject (a security id, a series id):
-- when it was last fetched and how many rows that fetch stored.
CREATE TABLE provider_fetches (
    provider   text        NOT NULL CHECK (provider ~ '^[a-z][a-z0-9_]*$'),
    dataset    text        NOT NULL CHECK (dataset ~ '^[a-z][a-z0-9_]*$'),
    subject    text        NOT NULL CHECK (subject <> ''),
    fetched_at timestamptz NOT NULL,
    row_count  int         NOT NULL CHECK (row_count >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, dataset, subject)
);
