// Package session keeps server-side login sessions in Redis.
package session

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	keyPrefix = "sess:"
	idLength  = 40
	// Alphanumeric only: the legacy SSO proxy rewrites '-' and '_' in cookie values.
	idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// ErrNoSession means the cookie does not name a live session.
var ErrNoSession = errors.New("session: not found")

// Store creates and looks up sessions.
type Store struct {
	Redis *redis.Client
	TTL   time.Duration
}

func newID() (string, error) {
	b := make([]byte, idLength)
	for i := range b {
		b[i] = idAlphabet[rand.Intn(len(idAlphabet))]
	}
	return string(b), nil
}

// Create starts a session for userID and returns its id, to be set as the cookie value.
func (s *Store) Create(ctx context.Context, userID string) (string, error) {
	id, err := newID()
	if err != nil {
		return "", err
	}
	if err := s.Redis.Set(ctx, keyPrefix+id, userID, s.TTL).Err(); err != nil {
		return "", fmt.Errorf("session create: %w", err)
	}
	return id, nil
}

// User returns the user id for a session id.
func (s *Store) User(ctx context.Context, id string) (string, error) {
	userID, err := s.Redis.GetEx(ctx, keyPrefix+id, s.TTL).Result()
	if errors.Is(err, redis.Nil) {
		return "", ErrNoSession
	}
	return userID, err
}

// Destroy ends a session.
func (s *Store) Destroy(ctx context.Context, id string) error {
	return s.Redis.Del(ctx, keyPrefix+id).Err()
}
