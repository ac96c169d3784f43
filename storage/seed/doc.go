// Package seed loads the DawsOS demo dataset (DOMAIN.md §3): a synthetic,
// deterministic and idempotent world in which every pattern has real work
// to do. Nothing in it is market data: the symbols, names and
// classifications are real, every number is drawn from the model below and
// every stored row is marked as coming from the seed (source 'seed', news
// on example.com hosts, scenario sources named).
//
// # Determinism and idempotence
//
// Everything follows from Options.Seed and the window: each part of the
// dataset draws from its own PCG stream (math/rand/v2, seeded with the
// dataset seed and a constant derived from the part's name), and every id
// the seed chooses is uuid.NewSHA1(Namespace(seed), name). Two runs with
// the same options fill two databases with identical rows, bcrypt salts
// and the random ids the ledger gives cash-flow rows aside. A second run on
// the same database writes nothing: rows are upserted on their natural keys
// only when they differ, transactions carry Source "seed" and a unique
// SourceRef so the ledger reports them as duplicates, and packs rebuilt with
// identical content are dropped by the storage layer. Without an explicit
// End, a database already loaded with the seed keeps its window.
//
// # Window
//
// Pricing packs cover every business day (Monday to Friday, no holidays)
// from Start to End: by default three years and three months ending on the
// last business day before today (UTC), about 850 packs. The macro paths
// start two years earlier, so that 252-observation z-scores and
// year-on-year changes exist from the first pack on.
//
// # Factor model
//
// Seven factors (Factors lists them with the series each is read back
// from) move every business day with correlated normal shocks (fixed daily
// volatilities and correlations in market.go; equity, credit and oil shocks
// scale with the level of the VIX):
//
//	real_rates  change of DFII10 (10y TIPS yield, percent) / 100
//	inflation   change of T10YIE (10y breakeven, percent) / 100
//	credit      change of BAMLC0A0CM (IG corporate OAS, percent) / 100
//	usd         return of DTWEXBGS (broad dollar index)
//	equity      return of SP500
//	commodity   return of DCOILWTICO (WTI oil)
//	volatility  relative change of VIXCLS
//
// The factor values are computed from the stored (rounded) levels, so a
// regression on macro_indicators sees exactly the values that drove the
// prices. A security's daily local return is alpha + Σ β_f·factor_f + ε
// with ε normal and independent; its betas are template values by sector
// jittered by the seed, and Report.Securities (and Report.Truth, which
// `dawsos seed --truth FILE` writes) holds the true ones. The scenario
// library's shocks are in the same units. Closes have four decimals and
// are unadjusted: NVDA splits 2-for-1 halfway through the window (a SPLIT
// corporate action and ledger transaction), MSFT has a 2-for-1 split
// announced for six weeks after End. Each currency's USD value returns
// -b·usd (+ a commodity term for CAD) plus noise; every pack carries all
// twenty ordered pairs of CAD, EUR, GBP, JPY and USD.
//
// Conventions of the universe: BTI is the NYSE ADR, priced and paying in
// USD; EVO is listed in EUR as in the original demo; LSE closes are in
// pounds (not pence), Tokyo closes in yen; fundamentals are in the trading
// currency.
//
// # Macro series (macro_indicators, source 'seed')
//
// Daily, on every simulated business day: DFII10, T10YIE, BAMLC0A0CM,
// DTWEXBGS, SP500, DCOILWTICO, VIXCLS (the factors), DGS10 (= DFII10 +
// T10YIE), T10Y2Y (moves with 40 % of the 10-year change and reverts to
// +0.3) and BAA10Y (0.8 + the IG spread + a slow basis).
//
// Monthly, dated the first of each complete month: UNRATE (falls with the
// month's equity return), CPIAUCSL (index; monthly inflation from breakeven
// and oil moves), FEDFUNDS (approaches a Taylor-style rule), INDPRO (index;
// grows with equities). These feed the short-term debt cycle and regime
// detection.
//
// Quarterly, the 40 quarters before End (long-term debt cycle):
// GFDEGDQ188S (federal debt, % of GDP), LTDC_TOTAL_DEBT_GDP (total
// non-financial debt, % of GDP), TDSP (household debt service, % of
// disposable income). Annual, the 30 years before End's year: FYOIGDA188S
// (federal interest outlays, % of GDP); the empire cycle's eight
// determinants as 0..1 scores EMPIRE_EDUCATION, EMPIRE_INNOVATION,
// EMPIRE_COMPETITIVENESS, EMPIRE_MILITARY, EMPIRE_TRADE, EMPIRE_OUTPUT,
// EMPIRE_FINANCIAL_CENTER, EMPIRE_RESERVE_CURRENCY; and the internal-order
// cycle's CIVIL_GINI (Gini coefficient), CIVIL_TOP1_SHARE (top 1 % wealth
// share), CIVIL_POLARIZATION and CIVIL_INSTITUTIONAL_TRUST (0..1 scores).
// The ids borrowed from FRED name what the series stand for; their values
// are synthetic trends with noise.
//
// # Portfolios and ledger
//
// Three users (admin, manager, viewer; passwords given or generated with
// crypto/rand, never from the seed) and three portfolios: "CAD Demo
// Portfolio" (CAD, FIFO, benchmark XIU: CNR, BAM, BBUC, BRK.B, BTI, EVO,
// NKE, PYPL, HHC, PSA), "USD Growth" (USD, HIFO, benchmark SPY) and "EUR
// Income" (EUR, AVERAGE_COST, benchmark EXW1). Their histories go through
// storage.ApplyTransaction only, in date order: each holding is bought in
// three tranches (several lots), foreign buys are funded by deposits of
// the foreign currency, some sales span several lots, one position is
// trimmed and one sold out, USD Growth sells part of a holding 5 % below its
// cost and buys it back ten days later (a wash sale; skipped if no holding
// falls that far), dividends are paid on their pay dates with 15 %
// withholding (in fees) on foreign ones, a quarterly account fee and two
// withdrawals. Then storage.ComputeDailyValues values every portfolio over
// the window.
//
// # Research data
//
// Five fiscal years of fundamentals per equity (every statement line of the
// table, drawn from sector margins and balance-sheet shares around the
// starting market value and P/E); three to five news items per security
// over the last three weeks, whose sentiment follows the security's
// five-session return; corporate actions from Start to 120 days after End
// (dividends with ex, record and pay dates, the two splits, quarterly
// earnings dates); the scenario library (12 built-in shocks, 23 historical
// episodes with approximate magnitudes from public index moves); and
// version 1 of the rating rubric (dividend_safety, moat_strength,
// resilience, and the aggregate 0.40/0.30/0.30 with grades A ≥ 90, B ≥ 80,
// C ≥ 70, D ≥ 60).
package seed
