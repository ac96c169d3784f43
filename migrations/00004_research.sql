-- Research data: macro series, detected regimes and cycle phases,
-- fundamentals, news, corporate actions and the rating rubric with the
-- ratings computed from it. Provider fetches and the seed write here with
-- upserts on the natural keys.

-- +goose Up
CREATE TABLE macro_indicators (
    series_id  text             NOT NULL CHECK (series_id ~ '^[A-Za-z0-9_.]+$'),
    obs_date   date             NOT NULL,
    value      double precision NOT NULL CHECK (value = value), -- NaN is not an observation
    source     text             NOT NULL DEFAULT 'FRED',
    created_at timestamptz      NOT NULL DEFAULT now(),
    updated_at timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (series_id, obs_date)
);

CREATE TABLE regime_history (
    as_of_date    date             PRIMARY KEY,
    regime        text             NOT NULL CHECK (regime IN ('EARLY_EXPANSION', 'MID_EXPANSION', 'LATE_EXPANSION',
                                                            'EARLY_CONTRACTION', 'DEEP_CONTRACTION')),
    confidence    double precision NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    z_scores      jsonb            NOT NULL DEFAULT '{}'::jsonb,
    probabilities jsonb            NOT NULL DEFAULT '{}'::jsonb,
    drivers       jsonb            NOT NULL DEFAULT '[]'::jsonb,
    created_at    timestamptz      NOT NULL DEFAULT now(),
    updated_at    timestamptz      NOT NULL DEFAULT now()
);

CREATE TABLE cycle_phases (
    cycle      text             NOT NULL CHECK (cycle IN ('STDC', 'LTDC', 'EMPIRE', 'CIVIL')),
    as_of_date date             NOT NULL,
    phase      text             NOT NULL CHECK (phase <> ''),
    score      double precision NOT NULL,
    details    jsonb            NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz      NOT NULL DEFAULT now(),
    updated_at timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (cycle, as_of_date)
);

-- Annual statements, in currency, with the lines the ratings read. NULL
-- means not reported, never zero.
CREATE TABLE fundamentals (
    security_id          uuid        NOT NULL REFERENCES securities (id),
    fiscal_year          int         NOT NULL CHECK (fiscal_year BETWEEN 1900 AND 2200),
    period_end           date        NOT NULL,
    currency             text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    revenue              numeric,
    gross_profit         numeric,
    operating_income     numeric,
    net_income           numeric,
    interest_expense     numeric     CHECK (interest_expense >= 0),
    total_assets         numeric     CHECK (total_assets >= 0),
    intangible_assets    numeric     CHECK (intangible_assets >= 0),
    total_debt           numeric     CHECK (total_debt >= 0),
    total_equity         numeric,
    current_assets       numeric     CHECK (current_assets >= 0),
    current_liabilities  numeric     CHECK (current_liabilities >= 0),
    operating_cash_flow  numeric,
    capital_expenditure  numeric     CHECK (capital_expenditure >= 0),
    dividends_paid       numeric     CHECK (dividends_paid >= 0),
    shares_outstanding   numeric     CHECK (shares_outstanding > 0),
    dividend_per_share   numeric     CHECK (dividend_per_share >= 0),
    cash_and_equivalents numeric     CHECK (cash_and_equivalents >= 0),
    source               text        NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (security_id, fiscal_year),
    CHECK (extract(year FROM period_end) BETWEEN fiscal_year - 1 AND fiscal_year + 1)
);

CREATE TABLE news_items (
    id           uuid             PRIMARY KEY DEFAULT gen_random_uuid(),
    security_id  uuid             REFERENCES securities (id),
    published_at timestamptz      NOT NULL,
    title        text             NOT NULL CHECK (title <> ''),
    summary      text,
    url          text             NOT NULL,
    source       text             NOT NULL,
    -- In [-1, 1] when scored; NULL when not.
    sentiment    double precision CHECK (sentiment BETWEEN -1 AND 1),
    created_at   timestamptz      NOT NULL DEFAULT now(),
    UNIQUE NULLS NOT DISTINCT (security_id, url)
);
CREATE INDEX news_items_security_published ON news_items (security_id, published_at DESC);
CREATE INDEX news_items_published ON news_items (published_at DESC);

-- event_date is the ex-date of a dividend or split and the report date of
-- earnings. amount is per share; ratio is new shares per old share.
CREATE TABLE corporate_actions (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    security_id  uuid        NOT NULL REFERENCES securities (id),
    action_type  text        NOT NULL CHECK (action_type IN ('DIVIDEND', 'SPLIT', 'EARNINGS')),
    event_date   date        NOT NULL,
    record_date  date,
    pay_date     date,
    amount       numeric     CHECK (amount > 0),
    ratio        numeric     CHECK (ratio > 0),
    currency     text        CHECK (currency ~ '^[A-Z]{3}$'),
    source       text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (security_id, action_type, event_date),
    CHECK (action_type <> 'DIVIDEND' OR (amount IS NOT NULL AND currency IS NOT NULL)),
    CHECK ((action_type = 'SPLIT') = (ratio IS NOT NULL)),
    CHECK (pay_date IS NULL OR pay_date >= event_date)
);
CREATE INDEX corporate_actions_event_date ON corporate_actions (event_date);

-- One source of weights and thresholds for the ratings, versioned; at most
-- one active version per rubric name.
CREATE TABLE rating_rubrics (
    name        text        NOT NULL CHECK (name ~ '^[a-z_]+$'),
    version     int         NOT NULL CHECK (version > 0),
    rubric      jsonb       NOT NULL,
    description text,
    active      boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, version)
);
CREATE UNIQUE INDEX rating_rubrics_active ON rating_rubrics (name) WHERE active;

CREATE TABLE security_ratings (
    security_id    uuid             NOT NULL REFERENCES securities (id),
    rating_type    text             NOT NULL CHECK (rating_type IN ('dividend_safety', 'moat_strength',
                                                                  'resilience', 'aggregate')),
    as_of_date     date             NOT NULL,
    rubric_name    text             NOT NULL,
    rubric_version int              NOT NULL,
    -- 0..10 for a component rating, 0..100 for the aggregate.
    score          double precision NOT NULL CHECK (score >= 0 AND score <= 100),
    grade          text             CHECK (grade IN ('A', 'B', 'C', 'D', 'F')),
    components     jsonb            NOT NULL DEFAULT '{}'::jsonb,
    fiscal_year    int,
    created_at     timestamptz      NOT NULL DEFAULT now(),
    updated_at     timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (security_id, rating_type, as_of_date),
    FOREIGN KEY (rubric_name, rubric_version) REFERENCES rating_rubrics (name, version),
    CHECK (rating_type = 'aggregate' OR score <= 10),
    CHECK ((rating_type = 'aggregate') = (grade IS NOT NULL))
);
