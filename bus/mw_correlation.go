package bus

import (
	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
)

// correlation makes sure every message has a correlation id (the request's,
// else a new one) and copies it onto every message the handler produces, so
// a result, a dead letter and the HTTP request share one id.
func correlation(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		if middleware.MessageCorrelationID(msg) == "" {
			middleware.SetCorrelationID(watermill.NewShortUUID(), msg)
		}
		return middleware.CorrelationID(h)(msg)
	}
}
