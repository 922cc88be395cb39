-- The dashboard counts the outbox by lane and status with each lane's last
-- delivery: this index answers it without reading the table.
CREATE INDEX outbox_lane_status ON outbox (lane, status, delivered_at);
