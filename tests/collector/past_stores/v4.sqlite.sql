-- The tables and indexes a secscan at store schema version 4 created (sqlite).
-- Statements are separated by a line holding only ';'.

CREATE TABLE findings (
	unit_id VARCHAR(64) NOT NULL,
	baseline VARCHAR(128) NOT NULL,
	control_id VARCHAR(128) NOT NULL,
	status VARCHAR(16) NOT NULL,
	severity VARCHAR(32),
	first_seen DATETIME NOT NULL,
	last_seen DATETIME NOT NULL,
	resolved_at DATETIME,
	data JSON,
	PRIMARY KEY (unit_id, baseline, control_id)
)
;

CREATE TABLE secscan_meta (
	"key" VARCHAR(64) NOT NULL,
	value TEXT NOT NULL,
	PRIMARY KEY ("key")
)
;

CREATE TABLE units (
	id VARCHAR(64) NOT NULL,
	parent_id VARCHAR(64),
	name TEXT NOT NULL,
	kind VARCHAR(32),
	level INTEGER,
	data JSON,
	updated_at DATETIME NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(parent_id) REFERENCES units (id)
)
;

CREATE TABLE hosts (
	id VARCHAR(32) NOT NULL,
	unit_id VARCHAR(64),
	machine_id VARCHAR(128),
	identity_key VARCHAR(128),
	hostname TEXT NOT NULL,
	hostname_key VARCHAR(255) NOT NULL,
	os_name TEXT,
	ips JSON,
	first_seen DATETIME NOT NULL,
	last_seen DATETIME NOT NULL,
	last_report_id VARCHAR(36),
	clone_of VARCHAR(32),
	clone_suspect BOOLEAN NOT NULL,
	agent VARCHAR(64),
	moved_from VARCHAR(32),
	PRIMARY KEY (id),
	FOREIGN KEY(unit_id) REFERENCES units (id),
	UNIQUE (identity_key),
	FOREIGN KEY(clone_of) REFERENCES hosts (id)
)
;

CREATE INDEX ix_hosts_machine_id ON hosts (machine_id)
;

CREATE INDEX ix_hosts_unit_hostname ON hosts (unit_id, hostname_key)
;

CREATE TABLE scans (
	scan_id VARCHAR(36) NOT NULL,
	digest VARCHAR(64) NOT NULL,
	unit_id VARCHAR(64),
	key_id VARCHAR(32),
	started_at DATETIME NOT NULL,
	finished_at DATETIME NOT NULL,
	received_at DATETIME NOT NULL,
	source TEXT NOT NULL,
	document TEXT NOT NULL,
	PRIMARY KEY (scan_id),
	UNIQUE (digest),
	FOREIGN KEY(unit_id) REFERENCES units (id)
)
;

CREATE INDEX ix_scans_unit_id ON scans (unit_id)
;

CREATE TABLE tokens (
	key_id VARCHAR(32) NOT NULL,
	unit_id VARCHAR(64) NOT NULL,
	token_hash VARCHAR(64) NOT NULL,
	signing_key BLOB NOT NULL,
	label TEXT,
	created_at DATETIME NOT NULL,
	revoked_at DATETIME,
	PRIMARY KEY (key_id),
	FOREIGN KEY(unit_id) REFERENCES units (id),
	UNIQUE (token_hash)
)
;

CREATE INDEX ix_tokens_unit_id ON tokens (unit_id)
;

CREATE TABLE users (
	name VARCHAR(64) NOT NULL,
	role VARCHAR(16) NOT NULL,
	unit_id VARCHAR(64),
	password_hash TEXT NOT NULL,
	lang VARCHAR(8),
	session_epoch INTEGER NOT NULL,
	failed_logins INTEGER NOT NULL,
	locked_until DATETIME,
	created_at DATETIME NOT NULL,
	disabled_at DATETIME,
	PRIMARY KEY (name),
	FOREIGN KEY(unit_id) REFERENCES units (id)
)
;

CREATE TABLE host_macs (
	host_id VARCHAR(32) NOT NULL,
	mac VARCHAR(17) NOT NULL,
	PRIMARY KEY (host_id, mac),
	FOREIGN KEY(host_id) REFERENCES hosts (id)
)
;

CREATE INDEX ix_host_macs_mac ON host_macs (mac)
;

CREATE TABLE reports (
	report_id VARCHAR(36) NOT NULL,
	digest VARCHAR(64) NOT NULL,
	host_id VARCHAR(32) NOT NULL,
	unit_id VARCHAR(64),
	key_id VARCHAR(32),
	collected_at DATETIME NOT NULL,
	received_at DATETIME NOT NULL,
	source TEXT NOT NULL,
	document TEXT NOT NULL,
	PRIMARY KEY (report_id),
	UNIQUE (digest),
	FOREIGN KEY(host_id) REFERENCES hosts (id),
	FOREIGN KEY(unit_id) REFERENCES units (id)
)
;

CREATE INDEX ix_reports_host_collected ON reports (host_id, collected_at)
;

CREATE INDEX ix_reports_unit_id ON reports (unit_id)
;

CREATE TABLE captures (
	report_id VARCHAR(36) NOT NULL,
	host_id VARCHAR(32) NOT NULL,
	unit_id VARCHAR(64),
	collected_at DATETIME NOT NULL,
	received_at DATETIME NOT NULL,
	script_version INTEGER,
	compressed BLOB NOT NULL,
	decoded_at DATETIME NOT NULL,
	PRIMARY KEY (report_id),
	FOREIGN KEY(report_id) REFERENCES reports (report_id),
	FOREIGN KEY(host_id) REFERENCES hosts (id)
)
;

CREATE INDEX ix_captures_host_collected ON captures (host_id, collected_at)
;

CREATE INDEX ix_captures_unit_id ON captures (unit_id)
;

CREATE TABLE results (
	report_id VARCHAR(36) NOT NULL,
	host_id VARCHAR(32) NOT NULL,
	unit_id VARCHAR(64),
	passed INTEGER NOT NULL,
	failed INTEGER NOT NULL,
	unknown INTEGER NOT NULL,
	not_applicable INTEGER NOT NULL,
	results TEXT NOT NULL,
	evaluated_at DATETIME NOT NULL,
	PRIMARY KEY (report_id),
	FOREIGN KEY(report_id) REFERENCES reports (report_id),
	FOREIGN KEY(host_id) REFERENCES hosts (id)
)
;

CREATE INDEX ix_results_host_id ON results (host_id)
;

CREATE INDEX ix_results_unit_id ON results (unit_id)
;
