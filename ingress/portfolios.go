package ingress

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/patterns"
	"github.com/dawsos/dawsos/storage"
)

// Portfolio routes live in this file on their own so that the portfolio and
// import routes can grow here without touching the rest of the ingress.

// registerPortfolioRoutes adds the portfolio routes under r (/v1).
func registerPortfolioRoutes(r guardedRouter, deps Deps) {
	h := portfolioHandlers{db: deps.DB}
	r.Get("/portfolios", h.list)
}

type portfolioHandlers struct {
	db *storage.DB
}

// portfolioView is a portfolio as the API shows it.
type portfolioView struct {
	ID                  string    `json:"id"`
	OwnerID             string    `json:"owner_id"`
	Name                string    `json:"name"`
	BaseCurrency        string    `json:"base_currency"`
	BenchmarkSecurityID *string   `json:"benchmark_security_id"`
	CostBasisMethod     string    `json:"cost_basis_method"`
	Active              bool      `json:"active"`
	CreatedAt           time.Time `json:"created_at"`
}

func viewPortfolio(p storage.Portfolio) portfolioView {
	v := portfolioView{ID: p.ID.String(), OwnerID: p.OwnerID.String(), Name: p.Name, BaseCurrency: p.BaseCurrency,
		CostBasisMethod: p.CostBasisMethod, Active: p.Active, CreatedAt: p.CreatedAt}
	if p.BenchmarkSecurityID != uuid.Nil {
		b := p.BenchmarkSecurityID.String()
		v.BenchmarkSecurityID = &b
	}
	return v
}

// list is GET /v1/portfolios?owner_id=&active=true: the caller's
// portfolios (an ADMIN's: everyone's, or owner_id's). Another owner_id
// than the caller's own gives an empty list, not an error, so it confirms
// nothing.
func (h portfolioHandlers) list(c *fiber.Ctx) error {
	var f storage.PortfolioFilter
	if v := c.Query("owner_id"); v != "" {
		u, err := uuid.Parse(v)
		if err != nil {
			return paramError("owner_id", patterns.FieldInvalidFormat, fmt.Sprintf("query parameter owner_id must be a uuid, got %q", v))
		}
		f.OwnerID = u
	}
	if p := principalOf(c); p != nil && !p.isAdmin() {
		if f.OwnerID != uuid.Nil && f.OwnerID != p.UserID {
			return writeJSON(c, http.StatusOK, map[string]any{"portfolios": []portfolioView{}})
		}
		f.OwnerID = p.UserID
	}
	if v := c.Query("active"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return paramError("active", patterns.FieldInvalid, fmt.Sprintf("query parameter active must be true or false, got %q", v))
		}
		f.ActiveOnly = b
	}
	ctx := c.UserContext()
	var ps []storage.Portfolio
	err := h.db.Tx(ctx, func(tx pgx.Tx) error {
		var err error
		ps, err = storage.ListPortfolios(ctx, tx, f)
		return err
	})
	if err != nil {
		return err
	}
	out := make([]portfolioView, 0, len(ps))
	for _, p := range ps {
		out = append(out, viewPortfolio(p))
	}
	return writeJSON(c, http.StatusOK, map[string]any{"portfolios": out})
}
