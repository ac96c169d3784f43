-- macro_indicators meant to refuse NaN with CHECK (value = value), but
-- PostgreSQL orders NaN equal to itself, so that check lets it in. An
-- explicit comparison with 'NaN' refuses it.

-- +goose Up
ALTER TABLE macro_indicators DROP CONSTRAINT macro_indicators_value_check,
    ADD CONSTRAINT macro_indicators_value_check CHECK (value <> 'NaN');

-- +goose Down
ALTER TABLE macro_indicators DROP CONSTRAINT macro_indicators_value_check,
    ADD CONSTRAINT macro_indicators_value_check CHECK (value = value);
