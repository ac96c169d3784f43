package bus

import (
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
)

// heartbeat keeps a delivery alive while its step is being worked on: it
// sends JetStream's in-progress acknowledgement every interval, which
// restarts the consumer's ack wait. The ack wait can then be short, so the
// deliveries held by a process that was killed are handed to another
// subscriber within one ack wait instead of after the longest possible
// step (every attempt, every back-off).
func heartbeat(inflight *sync.Map, interval time.Duration) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			v, ok := inflight.LoadAndDelete(msg.UUID)
			if !ok {
				return h(msg)
			}
			m := v.(*nats.Msg)
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				t := time.NewTicker(interval)
				defer t.Stop()
				for {
					select {
					case <-stop:
						return
					case <-t.C:
						_ = m.InProgress()
					}
				}
			}()
			defer func() {
				close(stop)
				<-done
			}()
			return h(msg)
		}
	}
}
