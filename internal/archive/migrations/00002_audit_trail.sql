-- The audit trail of every archived Capture and Refund: who asked for it
-- (recorded at admission), who approved it and when, the MoneyPolicy that
-- governed it, and when it was sent (budgets count archived operations by
-- it). Empty for payments and for operations no policy governed.

-- +goose Up
ALTER TABLE archived_objects ADD COLUMN requester text NOT NULL DEFAULT '';
ALTER TABLE archived_objects ADD COLUMN approver text NOT NULL DEFAULT '';
ALTER TABLE archived_objects ADD COLUMN approved_at timestamptz;
ALTER TABLE archived_objects ADD COLUMN policy text NOT NULL DEFAULT '';
ALTER TABLE archived_objects ADD COLUMN submitted_at timestamptz;

-- Rows archived before this migration carry the same facts in their object.
UPDATE archived_objects SET
    requester    = coalesce(object->'status'->'audit'->>'requester',
                            object->'metadata'->'annotations'->>'payments.cashier-operator.io/requester', ''),
    approver     = coalesce(object->'status'->'audit'->>'approver', ''),
    approved_at  = CAST(object->'status'->'audit'->>'approvedAt' AS timestamptz),
    policy       = coalesce(object->'status'->'audit'->>'policy', ''),
    submitted_at = CAST(object->'status'->>'submitTime' AS timestamptz)
WHERE kind <> 'Payment';

CREATE INDEX archived_objects_by_requester ON archived_objects (namespace, requester, kind);
CREATE INDEX archived_objects_by_approver ON archived_objects (namespace, approver, kind);
-- Budgets: a namespace's operations of a kind sent in a window.
CREATE INDEX archived_objects_by_sent ON archived_objects (namespace, kind, submitted_at);

-- order_story gains the audit columns (appended: the view's earlier
-- columns keep their places).
CREATE OR REPLACE VIEW order_story AS
SELECT o.merchant_client_id,
       o.namespace,
       o.payment_name,
       coalesce(p.gateway_id, o.payment_id) AS order_payment_id,
       o.kind,
       o.name,
       o.phase,
       o.currency,
       o.amount,
       o.request_id,
       o.gateway_id,
       o.created_at,
       o.final_at,
       o.archived_at,
       o.requester,
       o.approver,
       o.approved_at,
       o.policy
FROM archived_objects o
LEFT JOIN archived_objects p
       ON p.kind = 'Payment'
      AND p.merchant_client_id = o.merchant_client_id
      AND p.namespace = o.namespace
      AND p.name = o.payment_name
      AND (o.payment_id = '' OR p.gateway_id = o.payment_id);

-- +goose Down
DROP VIEW order_story;
CREATE VIEW order_story AS
SELECT o.merchant_client_id,
       o.namespace,
       o.payment_name,
       coalesce(p.gateway_id, o.payment_id) AS order_payment_id,
       o.kind,
       o.name,
       o.phase,
       o.currency,
       o.amount,
       o.request_id,
       o.gateway_id,
       o.created_at,
       o.final_at,
       o.archived_at
FROM archived_objects o
LEFT JOIN archived_objects p
       ON p.kind = 'Payment'
      AND p.merchant_client_id = o.merchant_client_id
      AND p.namespace = o.namespace
      AND p.name = o.payment_name
      AND (o.payment_id = '' OR p.gateway_id = o.payment_id);
DROP INDEX archived_objects_by_sent;
DROP INDEX archived_objects_by_approver;
DROP INDEX archived_objects_by_requester;
ALTER TABLE archived_objects DROP COLUMN submitted_at;
ALTER TABLE archived_objects DROP COLUMN policy;
ALTER TABLE archived_objects DROP COLUMN approved_at;
ALTER TABLE archived_objects DROP COLUMN approver;
ALTER TABLE archived_objects DROP COLUMN requester;
