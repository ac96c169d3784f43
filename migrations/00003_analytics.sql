-- Analytics written by the capabilities: daily values, metrics, currency
-- attribution, factor exposures and betas, scenarios, drawdown-at-risk,
-- alerts and notifications. Every row names the pricing pack (and where it
-- matters the ledger hash) it was computed on; writers upsert on the natural
-- key so a re-delivered step changes nothing. Return-series analytics are
-- double precision; money stays NUMERIC.

-- +goose Up
CREATE TABLE portfolio_daily_values (
    portfolio_id      uuid        NOT NULL REFERENCES portfolios (id),
    value_date        date        NOT NULL,
    pack_id           text        NOT NULL REFERENCES pricing_packs (id),
    base_currency     text        NOT NULL CHECK (base_currency ~ '^[A-Z]{3}$'),
    total_value       numeric     NOT NULL,
    cash_value        numeric     NOT NULL,
    positions_value   numeric     NOT NULL CHECK (positions_value >= 0),
    -- External flows (base currency, signed, positive in) dated after the
    -- previous valued day and up to this one, so TWR loses none that fall on
    -- a day without a pack.
    net_external_flow numeric     NOT NULL DEFAULT 0,
    -- Hash of the portfolio's transactions up to value_date (see
    -- storage.LedgerCommitHash); a row whose pack or hash is stale is
    -- recomputed.
    ledger_hash       text        NOT NULL CHECK (ledger_hash ~ '^[0-9a-f]{64}$'),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (portfolio_id, value_date),
    CHECK (total_value = cash_value + positions_value)
);

CREATE TABLE portfolio_metrics (
    portfolio_id          uuid             NOT NULL REFERENCES portfolios (id),
    as_of_date            date             NOT NULL,
    pack_id               text             NOT NULL REFERENCES pricing_packs (id),
    benchmark_security_id uuid             REFERENCES securities (id),
    twr_1d                double precision,
    twr_mtd               double precision,
    twr_qtd               double precision,
    twr_ytd               double precision,
    twr_1y                double precision,
    twr_3y_ann            double precision,
    twr_5y_ann            double precision,
    twr_inception_ann     double precision,
    mwr_ytd               double precision,
    mwr_1y                double precision,
    mwr_inception         double precision,
    volatility_30d        double precision CHECK (volatility_30d >= 0),
    volatility_60d        double precision CHECK (volatility_60d >= 0),
    volatility_90d        double precision CHECK (volatility_90d >= 0),
    volatility_1y         double precision CHECK (volatility_1y >= 0),
    sharpe_30d            double precision,
    sharpe_60d            double precision,
    sharpe_90d            double precision,
    sharpe_1y             double precision,
    sortino_1y            double precision,
    max_drawdown_1y       double precision CHECK (max_drawdown_1y BETWEEN -1 AND 0),
    max_drawdown_3y       double precision CHECK (max_drawdown_3y BETWEEN -1 AND 0),
    current_drawdown      double precision CHECK (current_drawdown BETWEEN -1 AND 0),
    alpha_1y              double precision,
    beta_1y               double precision,
    tracking_error_1y     double precision CHECK (tracking_error_1y >= 0),
    information_ratio_1y  double precision,
    win_rate              double precision CHECK (win_rate BETWEEN 0 AND 1),
    -- Conventions, observation counts and anything a metric needs to state.
    details               jsonb            NOT NULL DEFAULT '{}'::jsonb,
    created_at            timestamptz      NOT NULL DEFAULT now(),
    updated_at            timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (portfolio_id, as_of_date, pack_id)
);

CREATE TABLE currency_attribution (
    portfolio_id       uuid             NOT NULL REFERENCES portfolios (id),
    as_of_date         date             NOT NULL,
    pack_id            text             NOT NULL REFERENCES pricing_packs (id),
    start_date         date             NOT NULL,
    local_return       double precision NOT NULL,
    fx_return          double precision NOT NULL,
    interaction_return double precision NOT NULL,
    total_return       double precision NOT NULL,
    residual_bp        double precision NOT NULL,
    by_currency        jsonb            NOT NULL DEFAULT '{}'::jsonb,
    created_at         timestamptz      NOT NULL DEFAULT now(),
    updated_at         timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (portfolio_id, as_of_date, pack_id, start_date),
    CHECK (start_date <= as_of_date)
);

CREATE TABLE factor_exposures (
    portfolio_id   uuid             NOT NULL REFERENCES portfolios (id),
    as_of_date     date             NOT NULL,
    pack_id        text             NOT NULL REFERENCES pricing_packs (id),
    lookback_days  int              NOT NULL CHECK (lookback_days > 0),
    observations   int              NOT NULL CHECK (observations >= 0),
    -- {"<factor>": {"beta": .., "t_stat": .., "contribution": ..}, ...}
    factors        jsonb            NOT NULL,
    alpha          double precision,
    r_squared      double precision CHECK (r_squared BETWEEN 0 AND 1),
    residual_vol   double precision CHECK (residual_vol >= 0),
    created_at     timestamptz      NOT NULL DEFAULT now(),
    updated_at     timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (portfolio_id, as_of_date, pack_id)
);
CREATE INDEX factor_exposures_portfolio_date ON factor_exposures (portfolio_id, as_of_date DESC);

CREATE TABLE position_factor_betas (
    portfolio_id     uuid             NOT NULL REFERENCES portfolios (id),
    security_id      uuid             NOT NULL REFERENCES securities (id),
    as_of_date       date             NOT NULL,
    beta_real_rates  double precision NOT NULL,
    beta_inflation   double precision NOT NULL,
    beta_credit      double precision NOT NULL,
    beta_usd         double precision NOT NULL,
    beta_equity      double precision NOT NULL,
    beta_commodity   double precision NOT NULL,
    beta_volatility  double precision NOT NULL,
    method           text             NOT NULL CHECK (method IN ('regression', 'heuristic')),
    r_squared        double precision CHECK (r_squared BETWEEN 0 AND 1),
    observations     int              CHECK (observations >= 0),
    created_at       timestamptz      NOT NULL DEFAULT now(),
    updated_at       timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (portfolio_id, security_id, as_of_date),
    CHECK ((method = 'regression') = (observations IS NOT NULL))
);

-- The scenario library: the built-in shocks and historical episodes. Shocks
-- are per factor, in the units of the matching position_factor_betas column
-- (a return or a change in decimal form).
CREATE TABLE scenario_shocks (
    id               text             PRIMARY KEY CHECK (id ~ '^[a-z0-9_]+$'),
    name             text             NOT NULL,
    category         text             NOT NULL,
    description      text,
    shock_real_rates double precision NOT NULL DEFAULT 0,
    shock_inflation  double precision NOT NULL DEFAULT 0,
    shock_credit     double precision NOT NULL DEFAULT 0,
    shock_usd        double precision NOT NULL DEFAULT 0,
    shock_equity     double precision NOT NULL DEFAULT 0,
    shock_commodity  double precision NOT NULL DEFAULT 0,
    shock_volatility double precision NOT NULL DEFAULT 0,
    probability      double precision CHECK (probability BETWEEN 0 AND 1),
    historical       boolean          NOT NULL DEFAULT false,
    period_start     date,
    period_end       date,
    source           text             NOT NULL,
    created_at       timestamptz      NOT NULL DEFAULT now(),
    updated_at       timestamptz      NOT NULL DEFAULT now(),
    CHECK (period_start IS NULL OR period_end IS NULL OR period_start <= period_end),
    CHECK (NOT historical OR period_start IS NOT NULL)
);

CREATE TABLE scenario_results (
    id                   uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    portfolio_id         uuid        NOT NULL REFERENCES portfolios (id),
    scenario_id          text        REFERENCES scenario_shocks (id),
    as_of_date           date        NOT NULL,
    pack_id              text        NOT NULL REFERENCES pricing_packs (id),
    -- sha256 of the shocks applied (library or custom), the upsert key.
    shock_hash           text        NOT NULL CHECK (shock_hash ~ '^[0-9a-f]{64}$'),
    shocks               jsonb       NOT NULL,
    value_before         numeric     NOT NULL,
    delta_value          numeric     NOT NULL,
    delta_pct            double precision NOT NULL,
    positions            jsonb       NOT NULL DEFAULT '[]'::jsonb,
    factor_contributions jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (portfolio_id, as_of_date, pack_id, shock_hash)
);

CREATE TABLE dar_history (
    portfolio_id    uuid             NOT NULL REFERENCES portfolios (id),
    as_of_date      date             NOT NULL,
    pack_id         text             NOT NULL REFERENCES pricing_packs (id),
    method          text             NOT NULL CHECK (method IN ('monte_carlo', 'scenarios')),
    confidence      double precision NOT NULL CHECK (confidence > 0 AND confidence < 1),
    horizon_days    int              NOT NULL CHECK (horizon_days > 0),
    regime          text             NOT NULL,
    simulations     int              NOT NULL CHECK (simulations > 0),
    seed            bigint,
    -- The loss at the (1 - confidence) quantile: a fraction of the market
    -- value (positive = loss) and the amount in base currency.
    dar_fraction    double precision NOT NULL,
    dar_amount      numeric          NOT NULL,
    portfolio_value numeric          NOT NULL,
    base_currency   text             NOT NULL CHECK (base_currency ~ '^[A-Z]{3}$'),
    details         jsonb            NOT NULL DEFAULT '{}'::jsonb,
    created_at      timestamptz      NOT NULL DEFAULT now(),
    updated_at      timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (portfolio_id, as_of_date, pack_id, method, confidence, horizon_days),
    CHECK (method <> 'monte_carlo' OR seed IS NOT NULL)
);

CREATE TABLE alerts (
    id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id          uuid        NOT NULL REFERENCES users (id),
    portfolio_id     uuid        REFERENCES portfolios (id),
    name             text        NOT NULL CHECK (name <> ''),
    condition        jsonb       NOT NULL,
    channels         text[]      NOT NULL DEFAULT '{in_app}'
                     CHECK (cardinality(channels) > 0 AND channels <@ ARRAY['in_app', 'email', 'webhook']),
    cooldown_seconds int         NOT NULL DEFAULT 86400 CHECK (cooldown_seconds >= 0),
    active           boolean     NOT NULL DEFAULT true,
    last_fired_at    timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alerts_user ON alerts (user_id);
CREATE INDEX alerts_portfolio ON alerts (portfolio_id) WHERE portfolio_id IS NOT NULL;

CREATE TABLE notifications (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid        NOT NULL REFERENCES users (id),
    alert_id     uuid        REFERENCES alerts (id),
    kind         text        NOT NULL CHECK (kind <> ''),
    payload      jsonb       NOT NULL DEFAULT '{}'::jsonb,
    dedupe_key   text,
    delivered_at timestamptz NOT NULL DEFAULT now(),
    read_at      timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (read_at IS NULL OR read_at >= delivered_at)
);
-- At most one notification per user, alert and UTC day: a table constraint
-- cannot hold an expression, a unique index can.
CREATE UNIQUE INDEX notifications_user_alert_day
    ON notifications (user_id, alert_id, ((delivered_at AT TIME ZONE 'UTC')::date))
    WHERE alert_id IS NOT NULL;
CREATE UNIQUE INDEX notifications_user_dedupe ON notifications (user_id, dedupe_key)
    WHERE dedupe_key IS NOT NULL;
CREATE INDEX notifications_user_unread ON notifications (user_id, delivered_at DESC) WHERE read_at IS NULL;
