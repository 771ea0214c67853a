package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// User is an account row.
type User struct {
	ID        int64
	Email     string
	Name      string
	CreatedAt time.Time
}

// ErrNotFound is returned when no row matches.
var ErrNotFound = errors.New("not found")

// Users reads and writes accounts.
type Users struct {
	DB *sql.DB
}

// ByID returns the user with the given id, or ErrNotFound.
func (u *Users) ByID(ctx context.Context, id int64) (*User, error) {
	row := u.DB.QueryRowContext(ctx,
		`SELECT id, email, name, created_at FROM users WHERE id = $1`, id)
	return scanUser(row)
}

// ByEmail returns the user with the given email (case-insensitive), or ErrNotFound.
func (u *Users) ByEmail(ctx context.Context, email string) (*User, error) {
	row := u.DB.QueryRowContext(ctx,
		`SELECT id, email, name, created_at FROM users WHERE lower(email) = $1`,
		strings.ToLower(strings.TrimSpace(email)))
	return scanUser(row)
}

func scanUser(row *sql.Row) (*User, error) {
	var usr User
	err := row.Scan(&usr.ID, &usr.Email, &usr.Name, &usr.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("scan user: %w", err)
	}
	return &usr, nil
}
