package ingress

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/orchestrator"
	"github.com/dawsos/dawsos/patterns"
	"github.com/dawsos/dawsos/storage"
)

// requestedBy names who asked for a replay: the user, and the request's
// correlation id, which leads to the request in the logs and the audit
// log.
func requestedBy(c *fiber.Ctx) string {
	who := "anonymous"
	if p := principalOf(c); p != nil {
		who = "user:" + p.UserID.String()
	}
	return who + " (correlation " + correlationOf(c) + ")"
}

// ownRunsOnly is the user whose runs a caller may see: every user's ("")
// for an ADMIN, the caller's own otherwise.
func ownRunsOnly(c *fiber.Ctx) string {
	p := principalOf(c)
	if p == nil || p.isAdmin() {
		return ""
	}
	return p.UserID.String()
}

func (s *Server) listDeadLetters(c *fiber.Ctx) error {
	limit, err := limitQuery(c, 100, 1000)
	if err != nil {
		return err
	}
	f := storage.DeadLetterFilter{Capability: c.Query("capability"), Status: c.Query("status"), UserID: ownRunsOnly(c), Limit: limit}
	switch f.Status {
	case "", "pending", "replayed":
	default:
		return paramError("status", patterns.FieldInvalid, fmt.Sprintf("query parameter status must be pending or replayed, got %q", f.Status))
	}
	if v := c.Query("run_id"); v != "" {
		u, err := uuid.Parse(v)
		if err != nil {
			return paramError("run_id", patterns.FieldInvalidFormat, fmt.Sprintf("query parameter run_id must be a uuid, got %q", v))
		}
		f.RunID = u.String()
	}
	var rows []storage.DeadLetterRow
	err = s.deps.DB.Tx(c.UserContext(), func(tx pgx.Tx) error {
		var err error
		rows, err = storage.ListDeadLetters(c.UserContext(), tx, f)
		return err
	})
	if err != nil {
		return err
	}
	if rows == nil {
		rows = []storage.DeadLetterRow{}
	}
	return writeJSON(c, http.StatusOK, map[string]any{"dead_letters": rows})
}

// deadLetterView is one dead letter with the replays made of it.
type deadLetterView struct {
	storage.DeadLetterRow
	Replays []storage.ReplayRow `json:"replays"`
}

func (s *Server) getDeadLetter(c *fiber.Ctx) error {
	id, err := uuidParam(c, "id")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	var v deadLetterView
	err = s.deps.DB.Tx(ctx, func(tx pgx.Tx) error {
		var err error
		if v.DeadLetterRow, err = storage.GetDeadLetter(ctx, tx, id, false); err != nil {
			return err
		}
		v.Replays, err = storage.ReplaysOf(ctx, tx, id)
		return err
	})
	if err != nil {
		return err
	}
	if v.Replays == nil {
		v.Replays = []storage.ReplayRow{}
	}
	return writeJSON(c, http.StatusOK, v)
}

// replayBody is the optional body of POST /v1/dlq/{id}/replay.
type replayBody struct {
	Args  json.RawMessage `json:"args"`
	Token string          `json:"token"`
}

func (s *Server) replayDeadLetter(c *fiber.Ctx) error {
	id, err := uuidParam(c, "id")
	if err != nil {
		return err
	}
	var body replayBody
	if err := decodeBody(c, &body, true); err != nil {
		return err
	}
	// Edited arguments must not point the step at another user's
	// portfolio.
	if err := s.checkPortfolioRefs(c, "args", rawObject(body.Args)); err != nil {
		return err
	}
	r, err := s.deps.Engine.Replay(c.UserContext(), orchestrator.ReplayRequest{
		DeadLetterID: id, Args: body.Args, Token: body.Token, RequestedBy: requestedBy(c),
	})
	if err != nil {
		return err
	}
	s.log.Info("dead letter replayed", "dead_letter_id", id, "replay_id", r.ID, "correlation_id", correlationOf(c))
	return writeJSON(c, http.StatusAccepted, r)
}

// bulkReplayBody is the body of POST /v1/dlq/replay.
type bulkReplayBody struct {
	Capability string `json:"capability"`
}

func (s *Server) replayCapability(c *fiber.Ctx) error {
	var body bulkReplayBody
	if err := decodeBody(c, &body, false); err != nil {
		return err
	}
	if body.Capability == "" {
		return &agents.Error{Code: agents.CodeInvalidInput,
			Message: "field capability is required",
			Fields:  []agents.FieldIssue{{Field: "capability", Code: patterns.FieldMissing, Message: "field capability is required"}}}
	}
	setAuditDetails(c, map[string]any{"capability": body.Capability})
	outs, err := s.deps.Engine.ReplayCapability(c.UserContext(), orchestrator.BulkReplayRequest{
		Capability: body.Capability, UserID: ownRunsOnly(c), RequestedBy: requestedBy(c)})
	if err != nil {
		return &capabilityError{capability: body.Capability, err: err}
	}
	s.log.Info("dead letters replayed", "capability", body.Capability, "count", len(outs), "correlation_id", correlationOf(c))
	return writeJSON(c, http.StatusAccepted, map[string]any{"capability": body.Capability, "outcomes": outs})
}
