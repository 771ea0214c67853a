// Package cache is a small in-process TTL cache for rendered fragments.
package cache

import (
	"sync"
	"time"
)

type entry struct {
	value   []byte
	expires time.Time
}

// Cache is safe for concurrent use.
type Cache struct {
	mu    sync.RWMutex
	items map[string]entry
	ttl   time.Duration
	now   func() time.Time

	hits, misses uint64
}

// New returns a cache whose entries live for ttl.
func New(ttl time.Duration) *Cache {
	return &Cache{items: make(map[string]entry), ttl: ttl, now: time.Now}
}

// Get returns the value for key if it is present and not expired.
func (c *Cache) Get(key string) ([]byte, bool) {
	c.mu.RLock()
	e, ok := c.items[key]
	c.mu.RUnlock()

	if !ok || c.now().After(e.expires) {
		c.mu.Lock()
		c.misses++
		c.mu.Unlock()
		return nil, false
	}
	c.mu.Lock()
	c.hits++
	c.mu.Unlock()
	return e.value, true
}

// Set stores value under key.
func (c *Cache) Set(key string, value []byte) {
	c.mu.Lock()
	c.items[key] = entry{value: value, expires: c.now().Add(c.ttl)}
	c.mu.Unlock()
}

// Stats returns the hit and miss counters.
func (c *Cache) Stats() (hits, misses uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.hits, c.misses
}
