import { formatMoney } from '../lib/money.js';
import { NotFoundError } from '../lib/errors.js';

export async function findInvoice(db, invoiceId) {
  const { rows } = await db.query(
    'SELECT id, number, customer_id, total_cents, currency, due_on FROM invoices WHERE id = $1',
    [invoiceId],
  );
  return rows[0] ?? null;
}

/** Active customers only: soft-deleted customers keep their invoices but get no email. */
export async function findCustomer(db, customerId) {
  const { rows } = await db.query(
    'SELECT id, name, email FROM customers WHERE id = $1 AND deleted_at IS NULL',
    [customerId],
  );
  return rows[0] ?? null;
}

/** The customer's designated billing contact, if they set one up in the portal. */
export async function findBillingContact(db, customerId) {
  const { rows } = await db.query(
    'SELECT name, email FROM billing_contacts WHERE customer_id = $1 AND verified_at IS NOT NULL',
    [customerId],
  );
  return rows[0] ?? null;
}

export async function sendInvoiceEmail(db, mailer, invoiceId) {
  const invoice = await findInvoice(db, invoiceId);
  if (!invoice) throw new NotFoundError(`invoice ${invoiceId}`);

  const customer = await findCustomer(db, invoice.customer_id);
  const billingContact = await findBillingContact(db, invoice.customer_id);
  const recipient = billingContact?.email ?? customer.email;

  await mailer.send({
    to: recipient,
    cc: billingContact ? customer.email : undefined,
    template: 'invoice',
    data: {
      name: billingContact?.name ?? customer.name,
      number: invoice.number,
      amount: formatMoney(invoice.total_cents, invoice.currency),
      dueOn: invoice.due_on,
    },
  });
  return { sent: true };
}
