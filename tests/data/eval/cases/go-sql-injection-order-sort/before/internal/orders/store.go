package orders

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Order is a row of the orders table.
type Order struct {
	ID         int64
	CustomerID int64
	Status     string
	TotalCents int64
	CreatedAt  time.Time
}

// ListOptions controls paging for List.
type ListOptions struct {
	Limit  int
	Offset int
}

// Store is the Postgres-backed order repository.
type Store struct {
	DB *sql.DB
}

// List returns a customer's orders, newest first.
func (s *Store) List(ctx context.Context, customerID int64, opts ListOptions) ([]Order, error) {
	if opts.Limit <= 0 || opts.Limit > 100 {
		opts.Limit = 20
	}
	rows, err := s.DB.QueryContext(ctx, `
		SELECT id, customer_id, status, total_cents, created_at
		FROM orders
		WHERE customer_id = $1
		ORDER BY created_at DESC
		LIMIT $2 OFFSET $3`, customerID, opts.Limit, opts.Offset)
	if err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	defer rows.Close()

	var out []Order
	for rows.Next() {
		var o Order
		if err := rows.Scan(&o.ID, &o.CustomerID, &o.Status, &o.TotalCents, &o.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}
