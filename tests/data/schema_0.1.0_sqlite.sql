BEGIN TRANSACTION;
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL,
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
INSERT INTO "alembic_version" VALUES('0001');
CREATE TABLE appreciations (
	id INTEGER NOT NULL,
	person_id INTEGER NOT NULL,
	couple_id INTEGER,
	text TEXT NOT NULL,
	written_at DATETIME NOT NULL,
	local_date DATE NOT NULL,
	shared_at DATETIME,
	delivered_at DATETIME,
	thanked_at DATETIME,
	CONSTRAINT pk_appreciations PRIMARY KEY (id),
	CONSTRAINT fk_appreciations_couple_id_couples FOREIGN KEY(couple_id) REFERENCES couples (id) ON DELETE SET NULL,
	CONSTRAINT fk_appreciations_person_id_people FOREIGN KEY(person_id) REFERENCES people (id) ON DELETE CASCADE
);
CREATE TABLE couple_members (
	id INTEGER NOT NULL,
	couple_id INTEGER NOT NULL,
	person_id INTEGER NOT NULL,
	joined_at DATETIME NOT NULL,
	relay_paused_at DATETIME,
	CONSTRAINT pk_couple_members PRIMARY KEY (id),
	CONSTRAINT fk_couple_members_couple_id_couples FOREIGN KEY(couple_id) REFERENCES couples (id) ON DELETE CASCADE,
	CONSTRAINT fk_couple_members_person_id_people FOREIGN KEY(person_id) REFERENCES people (id) ON DELETE CASCADE,
	CONSTRAINT uq_couple_members_person_id UNIQUE (person_id)
);
CREATE TABLE couples (
	id INTEGER NOT NULL,
	created_at DATETIME NOT NULL,
	reveal_together BOOLEAN NOT NULL,
	checkins_completed INTEGER NOT NULL,
	proposed_by_id INTEGER,
	proposed_weekday SMALLINT,
	proposed_time TIME,
	proposed_zone VARCHAR(64),
	CONSTRAINT pk_couples PRIMARY KEY (id),
	CONSTRAINT fk_couples_proposed_by_id_people FOREIGN KEY(proposed_by_id) REFERENCES people (id) ON DELETE SET NULL
);
CREATE TABLE deliveries (
	id INTEGER NOT NULL,
	schedule_id INTEGER,
	person_id INTEGER NOT NULL,
	kind VARCHAR(32) NOT NULL,
	due_at DATETIME NOT NULL,
	send_after DATETIME NOT NULL,
	deadline DATETIME NOT NULL,
	status VARCHAR(16) NOT NULL,
	attempts SMALLINT NOT NULL,
	claimed_at DATETIME NOT NULL,
	sent_at DATETIME,
	error VARCHAR(64),
	telegram_message_id BIGINT,
	ref_id INTEGER,
	variant VARCHAR(64),
	silent BOOLEAN NOT NULL,
	response VARCHAR(16),
	responded_at DATETIME,
	snoozed_until DATETIME,
	CONSTRAINT pk_deliveries PRIMARY KEY (id),
	CONSTRAINT fk_deliveries_person_id_people FOREIGN KEY(person_id) REFERENCES people (id) ON DELETE CASCADE,
	CONSTRAINT fk_deliveries_schedule_id_schedules FOREIGN KEY(schedule_id) REFERENCES schedules (id) ON DELETE SET NULL,
	CONSTRAINT uq_deliveries_schedule_id_person_id_due_at UNIQUE (schedule_id, person_id, due_at)
);
CREATE TABLE invitations (
	id INTEGER NOT NULL,
	initiator_id INTEGER NOT NULL,
	recipient_id INTEGER,
	status VARCHAR(16) NOT NULL,
	choices JSON NOT NULL,
	personal_line TEXT,
	send_at DATETIME,
	sent_at DATETIME,
	seen_at DATETIME,
	answered_at DATETIME,
	answer VARCHAR(16),
	reminder_at DATETIME,
	reminded_at DATETIME,
	opened_by_hash VARCHAR(64),
	recipient_chat_id BIGINT,
	created_at DATETIME NOT NULL,
	CONSTRAINT pk_invitations PRIMARY KEY (id),
	CONSTRAINT fk_invitations_initiator_id_people FOREIGN KEY(initiator_id) REFERENCES people (id) ON DELETE CASCADE,
	CONSTRAINT fk_invitations_recipient_id_people FOREIGN KEY(recipient_id) REFERENCES people (id) ON DELETE SET NULL
);
CREATE TABLE invite_opt_outs (
	id INTEGER NOT NULL,
	user_hash VARCHAR(64) NOT NULL,
	created_at DATETIME NOT NULL,
	CONSTRAINT pk_invite_opt_outs PRIMARY KEY (id),
	CONSTRAINT uq_invite_opt_outs_user_hash UNIQUE (user_hash)
);
CREATE TABLE one_time_tokens (
	id INTEGER NOT NULL,
	purpose VARCHAR(24) NOT NULL,
	token_hash VARCHAR(64) NOT NULL,
	person_id INTEGER,
	therapist_id INTEGER,
	ref_id INTEGER,
	created_at DATETIME NOT NULL,
	expires_at DATETIME NOT NULL,
	used_at DATETIME,
	CONSTRAINT pk_one_time_tokens PRIMARY KEY (id),
	CONSTRAINT fk_one_time_tokens_person_id_people FOREIGN KEY(person_id) REFERENCES people (id) ON DELETE CASCADE,
	CONSTRAINT fk_one_time_tokens_therapist_id_therapists FOREIGN KEY(therapist_id) REFERENCES therapists (id) ON DELETE CASCADE,
	CONSTRAINT uq_one_time_tokens_token_hash UNIQUE (token_hash)
);
CREATE TABLE people (
	id INTEGER NOT NULL,
	telegram_user_id BIGINT NOT NULL,
	chat_id BIGINT NOT NULL,
	display_name VARCHAR(64) NOT NULL,
	timezone VARCHAR(64),
	language VARCHAR(8) NOT NULL,
	consented_at DATETIME NOT NULL,
	created_at DATETIME NOT NULL,
	paused_at DATETIME,
	paused_until DATETIME,
	stopped_at DATETIME,
	blocked_at DATETIME,
	quiet_start TIME,
	quiet_end TIME,
	awaiting VARCHAR(32),
	awaiting_ref INTEGER,
	CONSTRAINT pk_people PRIMARY KEY (id),
	CONSTRAINT uq_people_telegram_user_id UNIQUE (telegram_user_id)
);
CREATE TABLE schedules (
	id INTEGER NOT NULL,
	person_id INTEGER,
	couple_id INTEGER,
	kind VARCHAR(32) NOT NULL,
	local_time TIME NOT NULL,
	weekdays SMALLINT NOT NULL,
	window_minutes SMALLINT NOT NULL,
	zone VARCHAR(64) NOT NULL,
	next_fire_at DATETIME,
	set_by VARCHAR(16) NOT NULL,
	therapist_id INTEGER,
	custom_template TEXT,
	care_asked_at DATETIME,
	created_at DATETIME NOT NULL,
	updated_at DATETIME NOT NULL,
	CONSTRAINT pk_schedules PRIMARY KEY (id),
	CONSTRAINT ck_schedules_one_owner CHECK ((person_id IS NULL) <> (couple_id IS NULL)),
	CONSTRAINT ck_schedules_weekdays_mask CHECK (weekdays > 0 AND weekdays < 128),
	CONSTRAINT ck_schedules_window CHECK (window_minutes >= 0 AND window_minutes <= 180),
	CONSTRAINT fk_schedules_couple_id_couples FOREIGN KEY(couple_id) REFERENCES couples (id) ON DELETE CASCADE,
	CONSTRAINT fk_schedules_person_id_people FOREIGN KEY(person_id) REFERENCES people (id) ON DELETE CASCADE,
	CONSTRAINT fk_schedules_therapist_id_therapists FOREIGN KEY(therapist_id) REFERENCES therapists (id) ON DELETE SET NULL,
	CONSTRAINT uq_schedules_couple_id_kind UNIQUE (couple_id, kind),
	CONSTRAINT uq_schedules_person_id_kind UNIQUE (person_id, kind)
);
CREATE TABLE therapist_consents (
	id INTEGER NOT NULL,
	link_id INTEGER NOT NULL,
	person_id INTEGER NOT NULL,
	agreed_at DATETIME NOT NULL,
	withdrawn_at DATETIME,
	CONSTRAINT pk_therapist_consents PRIMARY KEY (id),
	CONSTRAINT fk_therapist_consents_link_id_therapist_links FOREIGN KEY(link_id) REFERENCES therapist_links (id) ON DELETE CASCADE,
	CONSTRAINT fk_therapist_consents_person_id_people FOREIGN KEY(person_id) REFERENCES people (id) ON DELETE CASCADE,
	CONSTRAINT uq_therapist_consents_link_id_person_id UNIQUE (link_id, person_id)
);
CREATE TABLE therapist_links (
	id INTEGER NOT NULL,
	therapist_id INTEGER NOT NULL,
	couple_id INTEGER NOT NULL,
	created_at DATETIME NOT NULL,
	ended_at DATETIME,
	"plan" JSON,
	plan_starts_on DATE,
	config JSON,
	CONSTRAINT pk_therapist_links PRIMARY KEY (id),
	CONSTRAINT fk_therapist_links_couple_id_couples FOREIGN KEY(couple_id) REFERENCES couples (id) ON DELETE CASCADE,
	CONSTRAINT fk_therapist_links_therapist_id_therapists FOREIGN KEY(therapist_id) REFERENCES therapists (id) ON DELETE CASCADE
);
CREATE TABLE therapists (
	id INTEGER NOT NULL,
	name VARCHAR(100) NOT NULL,
	telegram_user_id BIGINT,
	chat_id BIGINT,
	created_at DATETIME NOT NULL,
	registered_at DATETIME,
	revoked_at DATETIME,
	CONSTRAINT pk_therapists PRIMARY KEY (id),
	CONSTRAINT uq_therapists_telegram_user_id UNIQUE (telegram_user_id)
);
CREATE INDEX ix_schedules_due ON schedules (next_fire_at);
CREATE INDEX ix_deliveries_pending ON deliveries (status, send_after);
CREATE INDEX ix_deliveries_person_kind ON deliveries (person_id, kind, due_at);
COMMIT;
