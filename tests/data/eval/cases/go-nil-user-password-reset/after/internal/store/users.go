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
	// DisabledAt is set when support or the fraud rules have locked the account.
	DisabledAt *time.Time
}

const userColumns = `id, email, name, created_at, disabled_at`

// Users reads and writes accounts.
type Users struct {
	DB *sql.DB
}

// ByID returns the user with the given id, or nil if there is none.
func (u *Users) ByID(ctx context.Context, id int64) (*User, error) {
	row := u.DB.QueryRowContext(ctx,
		`SELECT `+userColumns+` FROM users WHERE id = $1`, id)
	return scanUser(row)
}

// ByEmail returns the user with the given email (case-insensitive), or nil if there is none.
func (u *Users) ByEmail(ctx context.Context, email string) (*User, error) {
	row := u.DB.QueryRowContext(ctx,
		`SELECT `+userColumns+` FROM users WHERE lower(email) = $1`,
		strings.ToLower(strings.TrimSpace(email)))
	return scanUser(row)
}

// scanUser reads one user; a missing row is not an error and yields (nil, nil).
func scanUser(row *sql.Row) (*User, error) {
	var usr User
	err := row.Scan(&usr.ID, &usr.Email, &usr.Name, &usr.CreatedAt, &usr.DisabledAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("scan user: %w", err)
	}
	return &usr, nil
}
