package bus

import (
	"strconv"
	"sync"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/nats-io/nats.go"
)

// wireMarshaler maps watermill messages to NATS messages whose payload is
// the bare JSON envelope and whose headers carry the message id, the
// correlation id and the trace context, so outside NATS clients can read
// them without knowing watermill.
//
// When inflight is set, Unmarshal remembers each delivered NATS message by
// the watermill message's UUID, so the heartbeat middleware can tell the
// server the step is still being worked on.
type wireMarshaler struct {
	inflight *sync.Map
}

func (wireMarshaler) Marshal(topic string, msg *message.Message) (*nats.Msg, error) {
	m := nats.NewMsg(topic)
	m.Data = msg.Payload
	m.Header.Set(HeaderMsgID, msg.UUID)
	if c := middleware.MessageCorrelationID(msg); c != "" {
		m.Header.Set(HeaderCorrelationID, c)
	}
	if tp := msg.Metadata.Get(HeaderTraceparent); tp != "" {
		m.Header.Set(HeaderTraceparent, tp)
	}
	return m, nil
}

// Unmarshal never fails: a payload that is not a valid envelope is still
// delivered to the handler, which dead-letters it at once instead of
// leaving it to be redelivered forever.
func (w wireMarshaler) Unmarshal(m *nats.Msg) (*message.Message, error) {
	id := m.Header.Get(HeaderMsgID)
	if id == "" {
		id = watermill.NewUUID()
	}
	msg := message.NewMessage(id, m.Data)
	if w.inflight != nil && m.Reply != "" {
		w.inflight.Store(id, m)
	}
	if md, err := m.Metadata(); err == nil {
		msg.Metadata.Set(metaDelivered, strconv.FormatUint(md.NumDelivered, 10))
	}
	if c := m.Header.Get(HeaderCorrelationID); c != "" {
		middleware.SetCorrelationID(c, msg)
	}
	if tp := m.Header.Get(HeaderTraceparent); tp != "" {
		msg.Metadata.Set(HeaderTraceparent, tp)
	}
	return msg, nil
}
