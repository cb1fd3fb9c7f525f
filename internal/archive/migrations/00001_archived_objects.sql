-- The archive: one row per archived Payment, Capture, Refund or
-- CustomsDeclaration. Plain SQL that PostgreSQL, CockroachDB, YugabyteDB and
-- Aurora/AlloyDB all accept: no triggers, functions, extensions, generated
-- columns or advisory locks.

-- +goose Up
CREATE TABLE archived_objects (
    -- the merchant (GatewayConfig status.clientId) the object belongs to
    merchant_client_id text        NOT NULL,
    -- Payment, Capture, Refund or CustomsDeclaration
    kind               text        NOT NULL,
    -- the object's identity at the gateway: its request id
    -- (paymentRequestId, captureRequestId, ...), or uid:<UID> when it never had one
    identity           text        NOT NULL,
    namespace          text        NOT NULL,
    name               text        NOT NULL,
    uid                text        NOT NULL,
    -- the payment the object belongs to (a Payment's own name)
    payment_name       text        NOT NULL,
    -- the request id sent to the gateway ('' when none was sent)
    request_id         text        NOT NULL,
    -- the gateway's payment id (for operations: of their payment)
    payment_id         text        NOT NULL,
    -- the gateway's id of the object (paymentId, captureId, refundId, customsPaymentId)
    gateway_id         text        NOT NULL,
    currency           text        NOT NULL,
    -- amounts in major units, exact
    amount             numeric     NOT NULL,
    captured           numeric,
    refunded           numeric,
    phase              text        NOT NULL,
    created_at         timestamptz NOT NULL,
    final_at           timestamptz,
    archived_at        timestamptz NOT NULL,
    -- the object's resourceVersion when numeric (etcd's revision; 0 if not):
    -- an older state of an identity never replaces a newer one
    revision           bigint      NOT NULL,
    -- the whole object as the cluster held it (spec and status)
    object             jsonb       NOT NULL,
    PRIMARY KEY (merchant_client_id, kind, identity)
);

CREATE INDEX archived_objects_by_order ON archived_objects (namespace, payment_name, kind);
CREATE INDEX archived_objects_by_name ON archived_objects (namespace, name, kind);
CREATE INDEX archived_objects_by_payment_id ON archived_objects (payment_id);
CREATE INDEX archived_objects_by_gateway_id ON archived_objects (gateway_id);
CREATE INDEX archived_objects_by_created ON archived_objects (created_at);

-- Finance: payments per UTC day, merchant, currency and phase.
CREATE VIEW payments_by_day AS
SELECT CAST(created_at AT TIME ZONE 'UTC' AS date) AS day,
       merchant_client_id,
       currency,
       phase,
       count(*)                     AS payments,
       sum(amount)                  AS amount,
       sum(coalesce(captured, 0))   AS captured,
       sum(coalesce(refunded, 0))   AS refunded
FROM archived_objects
WHERE kind = 'Payment'
GROUP BY 1, 2, 3, 4;

-- Support: every archived object of an order, with its payment's gateway id,
-- so an order can be found by namespace/name or by any gateway id.
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

-- +goose Down
DROP VIEW order_story;
DROP VIEW payments_by_day;
DROP TABLE archived_objects;
