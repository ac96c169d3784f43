package macro

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Macro) createIfThreshold() agents.Def {
	return agents.Write(agents.Meta{
		Name: "alerts.create_if_threshold",
		Description: "Evaluates a condition (metric path, operator, threshold) over given figures (another step's output passed " +
			"whole); when it holds, upserts the run user's alert and writes a notification at most once per user, alert and " +
			"UTC day (notifications_user_alert_day), not within the alert's cooldown after it last fired, and never twice for " +
			"the same run step (a replay creates nothing new). The user is the run's; a run without one is invalid_input.",
		Reads:  []string{"users", "portfolios", "alerts", "notifications"},
		Writes: []string{"alerts", "notifications"},
		Codes:  []string{agents.CodeNotFound},
	}, a.CreateIfThreshold)
}

// Condition operators.
const (
	opGT     = "gt"
	opGTE    = "gte"
	opLT     = "lt"
	opLTE    = "lte"
	opAbsGT  = "abs_gt"
	opAbsGTE = "abs_gte"
)

// Alert statuses.
const (
	alertNotCrossed    = "not_crossed"
	alertNotified      = "notified"
	alertReplayed      = "already_notified"
	alertNotifiedToday = "already_notified_today"
	alertCooldown      = "cooldown"
	alertInactive      = "inactive"
)

// alertChannels are the channels alerts.channels accepts.
var alertChannels = []string{"in_app", "email", "webhook"}

// alertNamespace derives alert ids: the same user, portfolio and name are
// the same alert row.
var alertNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://dawsos.example/alerts"))

// AlertCondition is a threshold on one figure.
type AlertCondition struct {
	Metric    string  `json:"metric" jsonschema:"minLength=1,maxLength=300" doc:"Path of a number in figures: fields joined by '.', an element by index (positions[0]) or by a field's value (indicators[indicator=T10Y2Y])."`
	Operator  string  `json:"operator" jsonschema:"enum=gt|gte|lt|lte|abs_gt|abs_gte" doc:"value > threshold, ≥, <, ≤, |value| > threshold, |value| ≥ threshold."`
	Threshold float64 `json:"threshold"`
}

// holds evaluates the condition on a value.
func (c AlertCondition) holds(v float64) bool {
	switch c.Operator {
	case opGT:
		return v > c.Threshold
	case opGTE:
		return v >= c.Threshold
	case opLT:
		return v < c.Threshold
	case opLTE:
		return v <= c.Threshold
	case opAbsGT:
		return math.Abs(v) > c.Threshold
	case opAbsGTE:
		return math.Abs(v) >= c.Threshold
	}
	return false
}

// AlertThresholdInput is a named condition and the figures it is
// evaluated on.
type AlertThresholdInput struct {
	AlertName       string         `json:"alert_name" jsonschema:"minLength=1,maxLength=200" doc:"The alert's name; with the user and portfolio it identifies the alert."`
	PortfolioID     *uuid.UUID     `json:"portfolio_id,omitempty" doc:"The portfolio the alert is about, if any."`
	Condition       AlertCondition `json:"condition"`
	Figures         map[string]any `json:"figures" doc:"The figures, e.g. the output of macro.compute_dar passed whole."`
	Channels        []string       `json:"channels,omitempty" jsonschema:"maxItems=3" doc:"in_app, email, webhook; in_app when absent."`
	CooldownSeconds int            `json:"cooldown_seconds,omitempty" jsonschema:"minimum=0,maximum=2592000,default=86400" doc:"No notification within this many seconds of the alert's last one."`
}

// Validate checks the channels and the metric path.
func (in AlertThresholdInput) Validate() error {
	for i, ch := range in.Channels {
		ok := false
		for _, c := range alertChannels {
			ok = ok || ch == c
		}
		if !ok {
			return agents.FieldError(fmt.Sprintf("channels[%d]", i), "channel %q is not one of %s", ch, strings.Join(alertChannels, ", "))
		}
	}
	if _, err := parseFigurePath(in.Condition.Metric); err != nil {
		return agents.FieldError("condition.metric", "%v", err)
	}
	if !scenFinite(in.Condition.Threshold) {
		return agents.FieldError("condition.threshold", "threshold is not finite")
	}
	return nil
}

// AlertThresholdOutput says what the evaluation did.
type AlertThresholdOutput struct {
	AlertName      string     `json:"alert_name"`
	Metric         string     `json:"metric"`
	Operator       string     `json:"operator"`
	Threshold      float64    `json:"threshold"`
	Value          float64    `json:"value" doc:"The figure at metric."`
	Crossed        bool       `json:"crossed" doc:"Whether the condition holds."`
	Status         string     `json:"status" doc:"not_crossed (nothing written), notified, already_notified (this run step notified before: a replay), already_notified_today, cooldown or inactive."`
	UserID         string     `json:"user_id,omitempty"`
	AlertID        *uuid.UUID `json:"alert_id" doc:"The alert row; null when not crossed."`
	NotificationID *uuid.UUID `json:"notification_id" doc:"The notification written now or before; null when none."`
	DedupeKey      string     `json:"dedupe_key,omitempty"`
	LastFiredAt    *time.Time `json:"last_fired_at,omitempty" doc:"The alert's last notification before this call."`
	CooldownUntil  *time.Time `json:"cooldown_until,omitempty" doc:"Set when the cooldown held the notification back."`

	Provenance agents.Provenance `json:"provenance"`
}

// CreateIfThreshold implements alerts.create_if_threshold.
func (a *Macro) CreateIfThreshold(ctx context.Context, c *agents.Call, in AlertThresholdInput) (AlertThresholdOutput, error) {
	out := AlertThresholdOutput{AlertName: in.AlertName, Metric: in.Condition.Metric, Operator: in.Condition.Operator,
		Threshold: in.Condition.Threshold}
	path, _ := parseFigurePath(in.Condition.Metric)
	v, err := figureAt(in.Figures, path)
	if err != nil {
		return AlertThresholdOutput{}, agents.FieldError("figures", "condition.metric %s: %v", in.Condition.Metric, err)
	}
	out.Value, out.Crossed = v, in.Condition.holds(v)
	out.Provenance = c.Provenance(fmt.Sprintf("%s %s %v on the figures given", in.Condition.Metric, in.Condition.Operator, in.Condition.Threshold),
		"at most one notification per user, alert and UTC day; none within cooldown_seconds of the last; one per run step")
	if !out.Crossed {
		out.Status = alertNotCrossed
		return out, nil
	}

	if strings.TrimSpace(c.Run.UserID) == "" {
		return AlertThresholdOutput{}, agents.FieldError("ctx.user_id", "the run has no user to alert")
	}
	user, err := uuid.Parse(c.Run.UserID)
	if err != nil {
		return AlertThresholdOutput{}, agents.FieldError("ctx.user_id", "user id %q is not a uuid", c.Run.UserID)
	}
	out.UserID = user.String()
	ok, err := storage.UserExists(ctx, c.DB, user)
	if err != nil {
		return AlertThresholdOutput{}, err
	}
	if !ok {
		return AlertThresholdOutput{}, agents.Errorf(agents.CodeNotFound, "user %s of the run does not exist", user)
	}
	portfolio := "-"
	if in.PortfolioID != nil {
		if _, err := storage.GetPortfolio(ctx, c.DB, *in.PortfolioID); err != nil {
			return AlertThresholdOutput{}, err
		}
		portfolio = in.PortfolioID.String()
	}
	cond, err := json.Marshal(in.Condition)
	if err != nil {
		return AlertThresholdOutput{}, agents.Wrap(agents.CodeInternal, err, "encode alert condition")
	}
	channels := in.Channels
	if len(channels) == 0 {
		channels = []string{"in_app"}
	}
	alert, err := storage.UpsertAlert(ctx, c.DB, storage.Alert{
		ID:     uuid.NewSHA1(alertNamespace, []byte(user.String()+"/"+portfolio+"/"+in.AlertName)),
		UserID: user, PortfolioID: in.PortfolioID, Name: in.AlertName, Condition: cond, Channels: channels,
		CooldownSeconds: in.CooldownSeconds,
	})
	if err != nil {
		return AlertThresholdOutput{}, err
	}
	id := alert.ID
	out.AlertID, out.LastFiredAt = &id, alert.LastFiredAt
	if !alert.Active {
		out.Status = alertInactive
		return out, nil
	}

	now := time.Now
	if a.deps.Now != nil {
		now = a.deps.Now
	}
	at := now().UTC()
	// A run step notifies at most once, whenever it is replayed; a call
	// outside a run at most once a UTC day.
	out.DedupeKey = "alert:" + alert.ID.String() + ":day:" + at.Format(time.DateOnly)
	if c.Run.RunID != "" {
		out.DedupeKey = "alert:" + alert.ID.String() + ":run:" + c.Run.RunID + ":" + c.StepID
	}
	if n, found, err := storage.NotificationByDedupeKey(ctx, c.DB, user, out.DedupeKey); err != nil {
		return AlertThresholdOutput{}, err
	} else if found {
		nid := n.ID
		out.Status, out.NotificationID = alertReplayed, &nid
		return out, nil
	}
	if n, found, err := storage.NotificationOnDay(ctx, c.DB, user, alert.ID, at); err != nil {
		return AlertThresholdOutput{}, err
	} else if found {
		nid := n.ID
		out.Status, out.NotificationID = alertNotifiedToday, &nid
		return out, nil
	}
	if last := alert.LastFiredAt; last != nil {
		until := last.Add(time.Duration(alert.CooldownSeconds) * time.Second)
		if at.Before(until) {
			u := until.UTC()
			out.Status, out.CooldownUntil = alertCooldown, &u
			return out, nil
		}
	}
	payload, err := json.Marshal(map[string]any{"alert_name": in.AlertName, "portfolio_id": in.PortfolioID, "metric": in.Condition.Metric,
		"operator": in.Condition.Operator, "threshold": in.Condition.Threshold, "value": v, "run_id": c.Run.RunID,
		"asof_date": c.Run.AsOfDate, "channels": channels})
	if err != nil {
		return AlertThresholdOutput{}, agents.Wrap(agents.CodeInternal, err, "encode notification payload")
	}
	nid, inserted, err := storage.InsertAlertNotification(ctx, c.DB, storage.AlertNotification{UserID: user, AlertID: alert.ID,
		Kind: "alert", Payload: payload, DedupeKey: out.DedupeKey, DeliveredAt: at})
	if err != nil {
		return AlertThresholdOutput{}, err
	}
	if !inserted {
		// Another transaction wrote today's notification after the checks.
		n, found, err := storage.NotificationOnDay(ctx, c.DB, user, alert.ID, at)
		if err != nil {
			return AlertThresholdOutput{}, err
		}
		out.Status = alertNotifiedToday
		if found {
			id := n.ID
			out.NotificationID = &id
		}
		return out, nil
	}
	if err := storage.MarkAlertFired(ctx, c.DB, alert.ID, at); err != nil {
		return AlertThresholdOutput{}, err
	}
	out.Status, out.NotificationID = alertNotified, &nid
	return out, nil
}

// figureStep is one segment of a figure path: a field, then optionally an
// element by index or by a field's value.
type figureStep struct {
	Field    string
	Index    int // -1 when not indexed by position
	KeyField string
	KeyValue string
}

var figureSegment = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)(?:\[(?:(\d+)|([A-Za-z_][A-Za-z0-9_]*)=([^\]]+))\])?$`)

// parseFigurePath splits a.b[0].c[k=v] into steps.
func parseFigurePath(p string) ([]figureStep, error) {
	if p == "" {
		return nil, fmt.Errorf("empty path")
	}
	var out []figureStep
	for _, seg := range strings.Split(p, ".") {
		m := figureSegment.FindStringSubmatch(seg)
		if m == nil {
			return nil, fmt.Errorf("path segment %q is not field, field[n] or field[key=value]", seg)
		}
		st := figureStep{Field: m[1], Index: -1, KeyField: m[3], KeyValue: m[4]}
		if m[2] != "" {
			n, err := strconv.Atoi(m[2])
			if err != nil {
				return nil, fmt.Errorf("path segment %q: %v", seg, err)
			}
			st.Index = n
		}
		out = append(out, st)
	}
	return out, nil
}

// figureAt follows the path through decoded JSON to a number.
func figureAt(figs map[string]any, path []figureStep) (float64, error) {
	var cur any = figs
	where := ""
	for _, st := range path {
		obj, ok := cur.(map[string]any)
		if !ok {
			return 0, fmt.Errorf("%s is not an object", orRoot(where))
		}
		if where != "" {
			where += "."
		}
		where += st.Field
		cur, ok = obj[st.Field]
		if !ok {
			return 0, fmt.Errorf("no field %s", where)
		}
		if st.Index < 0 && st.KeyField == "" {
			continue
		}
		arr, ok := cur.([]any)
		if !ok {
			return 0, fmt.Errorf("%s is not a list", where)
		}
		if st.Index >= 0 {
			if st.Index >= len(arr) {
				return 0, fmt.Errorf("%s has %d elements, no [%d]", where, len(arr), st.Index)
			}
			cur, where = arr[st.Index], fmt.Sprintf("%s[%d]", where, st.Index)
			continue
		}
		found := false
		for _, e := range arr {
			if m, ok := e.(map[string]any); ok && fmt.Sprint(m[st.KeyField]) == st.KeyValue {
				cur, found = e, true
				break
			}
		}
		if !found {
			return 0, fmt.Errorf("%s has no element with %s = %s", where, st.KeyField, st.KeyValue)
		}
		where = fmt.Sprintf("%s[%s=%s]", where, st.KeyField, st.KeyValue)
	}
	switch x := cur.(type) {
	case float64:
		return x, nil
	case json.Number:
		return x.Float64()
	case string:
		// Decimals (money) are strings in outputs.
		f, err := strconv.ParseFloat(x, 64)
		if err != nil {
			return 0, fmt.Errorf("%s is %q, not a number", where, x)
		}
		return f, nil
	}
	return 0, fmt.Errorf("%s is not a number", where)
}

func orRoot(w string) string {
	if w == "" {
		return "figures"
	}
	return w
}
