-- The domain core: users and their audit trail, portfolios, securities, the
-- ledger (transactions, the lots derived from them, lot reliefs and external
-- cash flows) and pricing packs with their prices and FX rates.
--
-- Conventions: money and quantities are NUMERIC (exact); currencies are
-- ISO 4217 codes in upper case; dates without a time are DATE. Lots, lot
-- reliefs and portfolio_cash_flows are written only by the ledger code
-- (storage/ledger.go), never on their own.

-- +goose Up
CREATE TABLE users (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text        NOT NULL CHECK (email = lower(email) AND email LIKE '%_@_%'),
    password_hash text        NOT NULL,
    role          text        NOT NULL DEFAULT 'USER'
                  CHECK (role IN ('VIEWER', 'USER', 'MANAGER', 'ADMIN')),
    active        boolean     NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (email)
);

CREATE TABLE audit_log (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    uuid        REFERENCES users (id) ON DELETE SET NULL,
    action     text        NOT NULL CHECK (action <> ''),
    resource   text        NOT NULL,
    details    jsonb       NOT NULL DEFAULT '{}'::jsonb,
    ip         inet,
    at         timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_user_at ON audit_log (user_id, at DESC);
CREATE INDEX audit_log_at ON audit_log (at DESC);

CREATE TABLE securities (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    symbol      text        NOT NULL CHECK (symbol <> '' AND symbol = upper(symbol)),
    name        text        NOT NULL,
    type        text        NOT NULL CHECK (type IN ('EQUITY', 'ETF', 'BOND', 'FUND', 'CASH')),
    exchange    text,
    currency    text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    sector      text,
    industry    text,
    country     text,
    active      boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (symbol)
);
CREATE INDEX securities_sector ON securities (sector);

CREATE TABLE portfolios (
    id                    uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id              uuid        NOT NULL REFERENCES users (id),
    name                  text        NOT NULL CHECK (name <> ''),
    base_currency         text        NOT NULL CHECK (base_currency ~ '^[A-Z]{3}$'),
    benchmark_security_id uuid        REFERENCES securities (id),
    cost_basis_method     text        NOT NULL DEFAULT 'FIFO'
                          CHECK (cost_basis_method IN ('FIFO', 'LIFO', 'HIFO', 'SPECIFIC_LOT', 'AVERAGE_COST')),
    active                boolean     NOT NULL DEFAULT true,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    UNIQUE (owner_id, name)
);

-- Pricing packs: one immutable set of closes and FX rates for a date. The id
-- is PP_YYYY-MM-DD for the first pack of a date and PP_YYYY-MM-DD_rN for its
-- N-th restatement; a restatement that finalises sets superseded_by on the
-- pack it replaces. Prices and rates are written only while the pack is
-- warming; finalising computes content_hash and sets fresh or error.
CREATE TABLE pricing_packs (
    id            text        PRIMARY KEY
                  CHECK (id ~ '^PP_[0-9]{4}-[0-9]{2}-[0-9]{2}(_r[1-9][0-9]*)?$'),
    pack_date     date        NOT NULL,
    revision      int         NOT NULL DEFAULT 0 CHECK (revision >= 0),
    policy        text        NOT NULL DEFAULT 'close',
    status        text        NOT NULL DEFAULT 'warming' CHECK (status IN ('warming', 'fresh', 'error')),
    content_hash  text        CHECK (content_hash ~ '^[0-9a-f]{64}$'),
    superseded_by text        REFERENCES pricing_packs (id),
    -- The held securities without a price and the needed pairs without a
    -- rate when status is error.
    error_detail  jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    finalized_at  timestamptz,
    CHECK (substr(id, 4, 10) = to_char(pack_date, 'YYYY-MM-DD')),
    CHECK ((revision = 0) = (id !~ '_r')),
    CHECK ((status = 'warming') = (content_hash IS NULL)),
    CHECK ((status = 'warming') = (finalized_at IS NULL)),
    CHECK (superseded_by IS NULL OR superseded_by <> id),
    UNIQUE (pack_date, revision)
);
-- At most one current (finalised, not superseded) pack per date.
CREATE UNIQUE INDEX pricing_packs_current_date ON pricing_packs (pack_date)
    WHERE superseded_by IS NULL AND status <> 'warming';
-- PackForDate: the newest fresh current pack on or before a date.
CREATE INDEX pricing_packs_fresh_date ON pricing_packs (pack_date DESC)
    WHERE status = 'fresh' AND superseded_by IS NULL;

CREATE TABLE prices (
    pack_id     text        NOT NULL REFERENCES pricing_packs (id) ON DELETE CASCADE,
    security_id uuid        NOT NULL REFERENCES securities (id),
    pack_date   date        NOT NULL,
    close       numeric     NOT NULL CHECK (close >= 0),
    open        numeric     CHECK (open >= 0),
    high        numeric     CHECK (high >= 0),
    low         numeric     CHECK (low >= 0),
    volume      numeric     CHECK (volume >= 0),
    currency    text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (pack_id, security_id),
    CHECK (high IS NULL OR low IS NULL OR high >= low)
);
-- Price history of one security.
CREATE INDEX prices_security_date ON prices (security_id, pack_date);

CREATE TABLE fx_rates (
    pack_id    text        NOT NULL REFERENCES pricing_packs (id) ON DELETE CASCADE,
    from_ccy   text        NOT NULL CHECK (from_ccy ~ '^[A-Z]{3}$'),
    to_ccy     text        NOT NULL CHECK (to_ccy ~ '^[A-Z]{3}$'),
    pack_date  date        NOT NULL,
    -- 1 from_ccy = rate to_ccy.
    rate       numeric     NOT NULL CHECK (rate > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (pack_id, from_ccy, to_ccy),
    CHECK (from_ccy <> to_ccy)
);
CREATE INDEX fx_rates_pair_date ON fx_rates (from_ccy, to_ccy, pack_date);

-- Transactions are the ledger's source of truth. The columns after "derived"
-- are computed by the ledger code when it applies the transaction and are
-- recomputed by a replay.
CREATE TABLE transactions (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    -- seq is the order of insertion; the ledger applies transactions in
    -- (trade_date, seq) order.
    seq             bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
    portfolio_id    uuid        NOT NULL REFERENCES portfolios (id),
    security_id     uuid        REFERENCES securities (id),
    type            text        NOT NULL CHECK (type IN ('BUY', 'SELL', 'DIVIDEND', 'SPLIT', 'DEPOSIT',
                                    'WITHDRAWAL', 'TRANSFER_IN', 'TRANSFER_OUT', 'FEE', 'INTEREST')),
    trade_date      date        NOT NULL,
    settle_date     date        CHECK (settle_date >= trade_date),
    quantity        numeric     CHECK (quantity > 0),
    price           numeric     CHECK (price >= 0),
    -- Gross cash amount: trade value for BUY/SELL, the payment otherwise.
    amount          numeric     CHECK (amount >= 0),
    currency        text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    fees            numeric     NOT NULL DEFAULT 0 CHECK (fees >= 0),
    split_ratio     numeric     CHECK (split_ratio > 0),
    -- The lot a SPECIFIC_LOT sale relieves.
    lot_id          uuid,
    source          text,
    source_ref      text,
    notes           text,
    -- derived
    realized_pl     numeric,
    cash_amount     numeric     NOT NULL DEFAULT 0,
    cash_currency   text        NOT NULL CHECK (cash_currency ~ '^[A-Z]{3}$'),
    fx_rate         numeric     CHECK (fx_rate > 0),
    fx_pack_id      text        REFERENCES pricing_packs (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (type NOT IN ('BUY', 'SELL') OR (security_id IS NOT NULL AND quantity IS NOT NULL
                                           AND price IS NOT NULL AND amount IS NOT NULL)),
    CHECK (type NOT IN ('DIVIDEND', 'SPLIT') OR security_id IS NOT NULL),
    CHECK ((type = 'SPLIT') = (split_ratio IS NOT NULL)),
    CHECK (type NOT IN ('DIVIDEND', 'DEPOSIT', 'WITHDRAWAL', 'FEE', 'INTEREST') OR amount > 0),
    CHECK (type NOT IN ('DEPOSIT', 'WITHDRAWAL') OR security_id IS NULL),
    CHECK (type NOT IN ('TRANSFER_IN', 'TRANSFER_OUT') OR
           (security_id IS NULL AND amount > 0) OR
           (security_id IS NOT NULL AND quantity IS NOT NULL AND price IS NOT NULL)),
    CHECK ((type = 'SELL') = (realized_pl IS NOT NULL)),
    CHECK (lot_id IS NULL OR type IN ('SELL', 'TRANSFER_OUT')),
    CHECK ((source IS NULL) = (source_ref IS NULL)),
    CHECK ((fx_rate IS NULL) = (fx_pack_id IS NULL))
);
CREATE INDEX transactions_portfolio_date ON transactions (portfolio_id, trade_date, seq);
CREATE INDEX transactions_security_date ON transactions (security_id, trade_date) WHERE security_id IS NOT NULL;
-- Re-importing the same file line changes nothing.
CREATE UNIQUE INDEX transactions_source_ref ON transactions (portfolio_id, source, source_ref)
    WHERE source IS NOT NULL;

-- A lot's id is the id of the transaction that opened it (a BUY or an in-kind
-- TRANSFER_IN), so a replay recreates the same ids and SPECIFIC_LOT
-- references stay valid.
CREATE TABLE lots (
    id                  uuid        PRIMARY KEY REFERENCES transactions (id),
    portfolio_id        uuid        NOT NULL REFERENCES portfolios (id),
    security_id         uuid        NOT NULL REFERENCES securities (id),
    acquired_date       date        NOT NULL,
    quantity_original   numeric     NOT NULL CHECK (quantity_original > 0),
    quantity_open       numeric     NOT NULL CHECK (quantity_open >= 0),
    -- Total cost (trade value plus fees) of quantity_original and of
    -- quantity_open, in currency.
    cost_basis_original numeric     NOT NULL CHECK (cost_basis_original >= 0),
    cost_basis_open     numeric     NOT NULL CHECK (cost_basis_open >= 0),
    cost_per_share      numeric     NOT NULL CHECK (cost_per_share >= 0),
    currency            text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    is_open             boolean     GENERATED ALWAYS AS (quantity_open > 0) STORED,
    closed_date         date,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    -- No cost_basis_open <= cost_basis_original: under AVERAGE_COST the
    -- open lots share the pooled average, which may exceed a cheap lot's own.
    CHECK (quantity_open <= quantity_original),
    CHECK ((quantity_open = 0) = (closed_date IS NOT NULL)),
    CHECK (closed_date IS NULL OR closed_date >= acquired_date)
);
CREATE INDEX lots_portfolio_open ON lots (portfolio_id, security_id, acquired_date) WHERE is_open;
CREATE INDEX lots_portfolio_security ON lots (portfolio_id, security_id, acquired_date);
CREATE INDEX lots_security_open ON lots (security_id) WHERE is_open;

-- transactions.lot_id is checked at commit so that a replay may delete and
-- recreate the lots inside one transaction.
ALTER TABLE transactions ADD CONSTRAINT transactions_lot_id_fkey
    FOREIGN KEY (lot_id) REFERENCES lots (id) DEFERRABLE INITIALLY DEFERRED;

-- One row per lot a SELL or in-kind TRANSFER_OUT took quantity from: what
-- the tax capabilities read for holding periods and realised gains.
CREATE TABLE lot_reliefs (
    transaction_id uuid        NOT NULL REFERENCES transactions (id),
    lot_id         uuid        NOT NULL REFERENCES lots (id) ON DELETE CASCADE,
    portfolio_id   uuid        NOT NULL REFERENCES portfolios (id),
    relief_date    date        NOT NULL,
    quantity       numeric     NOT NULL CHECK (quantity > 0),
    cost_relieved  numeric     NOT NULL CHECK (cost_relieved >= 0),
    -- Net proceeds and realised P&L in the lot's currency; NULL for an
    -- in-kind transfer out, which realises nothing.
    proceeds       numeric,
    realized_pl    numeric,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (transaction_id, lot_id),
    CHECK ((proceeds IS NULL) = (realized_pl IS NULL))
);
CREATE INDEX lot_reliefs_portfolio_date ON lot_reliefs (portfolio_id, relief_date);
CREATE INDEX lot_reliefs_lot ON lot_reliefs (lot_id);

-- External flows only (deposits, withdrawals, transfers), signed: positive
-- into the portfolio. Buys, sells, dividends, fees and interest move cash
-- inside the portfolio and are not here.
CREATE TABLE portfolio_cash_flows (
    id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    portfolio_id   uuid        NOT NULL REFERENCES portfolios (id),
    transaction_id uuid        NOT NULL UNIQUE REFERENCES transactions (id),
    flow_date      date        NOT NULL,
    type           text        NOT NULL CHECK (type IN ('DEPOSIT', 'WITHDRAWAL', 'TRANSFER_IN', 'TRANSFER_OUT')),
    amount         numeric     NOT NULL CHECK (amount <> 0),
    currency       text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((type IN ('DEPOSIT', 'TRANSFER_IN')) = (amount > 0))
);
CREATE INDEX portfolio_cash_flows_portfolio_date ON portfolio_cash_flows (portfolio_id, flow_date);
