package testkit

import (
	"sync/atomic"
	"time"
)

type atomicTime struct{ v atomic.Int64 }

func (a *atomicTime) Load() time.Time   { return time.Unix(0, a.v.Load()).UTC() }
func (a *atomicTime) Store(t time.Time) { a.v.Store(t.UnixNano()) }
