--
-- PostgreSQL database dump
--

--
-- Name: alembic_version; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.alembic_version (
    version_num character varying(32) NOT NULL
);

--
-- Name: appreciations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.appreciations (
    id integer NOT NULL,
    person_id integer NOT NULL,
    couple_id integer,
    text text NOT NULL,
    written_at timestamp with time zone NOT NULL,
    local_date date NOT NULL,
    shared_at timestamp with time zone,
    delivered_at timestamp with time zone,
    thanked_at timestamp with time zone
);

--
-- Name: appreciations_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.appreciations_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

--
-- Name: appreciations_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.appreciations_id_seq OWNED BY public.appreciations.id;

--
-- Name: couple_members; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.couple_members (
    id integer NOT NULL,
    couple_id integer NOT NULL,
    person_id integer NOT NULL,
    joined_at timestamp with time zone NOT NULL,
    relay_paused_at timestamp with time zone
);

--
-- Name: couple_members_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.couple_members_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

--
-- Name: couple_members_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.couple_members_id_seq OWNED BY public.couple_members.id;

--
-- Name: couples; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.couples (
    id integer NOT NULL,
    created_at timestamp with time zone NOT NULL,
    reveal_together boolean NOT NULL,
    checkins_completed integer NOT NULL,
    proposed_by_id integer,
    proposed_weekday smallint,
    proposed_time time without time zone,
    proposed_zone character varying(64)
);

--
-- Name: couples_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.couples_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

--
-- Name: couples_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.couples_id_seq OWNED BY public.couples.id;

--
-- Name: deliveries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.deliveries (
    id integer NOT NULL,
    schedule_id integer,
    person_id integer NOT NULL,
    kind character varying(32) NOT NULL,
    due_at timestamp with time zone NOT NULL,
    send_after timestamp with time zone NOT NULL,
    deadline timestamp with time zone NOT NULL,
    status character varying(16) NOT NULL,
    attempts smallint NOT NULL,
    claimed_at timestamp with time zone NOT NULL,
    sent_at timestamp with time zone,
    error character varying(64),
    telegram_message_id bigint,
    ref_id integer,
    variant character varying(64),
    silent boolean NOT NULL,
    response character varying(16),
    responded_at timestamp with time zone,
    snoozed_until timestamp with time zone
);

--
-- Name: deliveries_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.deliveries_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

--
-- Name: deliveries_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.deliveries_id_seq OWNED BY public.deliveries.id;

--
-- Name: invitations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.invitations (
    id integer NOT NULL,
    initiator_id integer NOT NULL,
    recipient_id integer,
    status character varying(16) NOT NULL,
    choices json NOT NULL,
    personal_line text,
    send_at timestamp with time zone,
    sent_at timestamp with time zone,
    seen_at timestamp with time zone,
    answered_at timestamp with time zone,
    answer character varying(16),
    reminder_at timestamp with time zone,
    reminded_at timestamp with time zone,
    opened_by_hash character varying(64),
    recipient_chat_id bigint,
    created_at timestamp with time zone NOT NULL
);

--
-- Name: invitations_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.invitations_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

--
-- Name: invitations_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.invitations_id_seq OWNED BY public.invitations.id;

--
-- Name: invite_opt_outs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.invite_opt_outs (
    id integer NOT NULL,
    user_hash character varying(64) NOT NULL,
    created_at timestamp with time zone NOT NULL
);

--
-- Name: invite_opt_outs_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.invite_opt_outs_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

--
-- Name: invite_opt_outs_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.invite_opt_outs_id_seq OWNED BY public.invite_opt_outs.id;

--
-- Name: one_time_tokens; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.one_time_tokens (
    id integer NOT NULL,
    purpose character varying(24) NOT NULL,
    token_hash character varying(64) NOT NULL,
    person_id integer,
    therapist_id integer,
    ref_id integer,
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    used_at timestamp with time zone
);

--
-- Name: one_time_tokens_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.one_time_tokens_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

--
-- Name: one_time_tokens_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.one_time_tokens_id_seq OWNED BY public.one_time_tokens.id;

--
-- Name: people; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.people (
    id integer NOT NULL,
    telegram_user_id bigint NOT NULL,
    chat_id bigint NOT NULL,
    display_name character varying(64) NOT NULL,
    timezone character varying(64),
    language character varying(8) NOT NULL,
    consented_at timestamp with time zone NOT NULL,
    created_at timestamp with time zone NOT NULL,
    paused_at timestamp with time zone,
    paused_until timestamp with time zone,
    stopped_at timestamp with time zone,
    blocked_at timestamp with time zone,
    quiet_start time without time zone,
    quiet_end time without time zone,
    awaiting character varying(32),
    awaiting_ref integer
);

--
-- Name: people_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.people_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

--
-- Name: people_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.people_id_seq OWNED BY public.people.id;

--
-- Name: schedules; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schedules (
    id integer NOT NULL,
    person_id integer,
    couple_id integer,
    kind character varying(32) NOT NULL,
    local_time time without time zone NOT NULL,
    weekdays smallint NOT NULL,
    window_minutes smallint NOT NULL,
    zone character varying(64) NOT NULL,
    next_fire_at timestamp with time zone,
    set_by character varying(16) NOT NULL,
    therapist_id integer,
    custom_template text,
    care_asked_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT ck_schedules_one_owner CHECK (((person_id IS NULL) <> (couple_id IS NULL))),
    CONSTRAINT ck_schedules_weekdays_mask CHECK (((weekdays > 0) AND (weekdays < 128))),
    CONSTRAINT ck_schedules_window CHECK (((window_minutes >= 0) AND (window_minutes <= 180)))
);

--
-- Name: schedules_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.schedules_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

--
-- Name: schedules_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.schedules_id_seq OWNED BY public.schedules.id;

--
-- Name: therapist_consents; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.therapist_consents (
    id integer NOT NULL,
    link_id integer NOT NULL,
    person_id integer NOT NULL,
    agreed_at timestamp with time zone NOT NULL,
    withdrawn_at timestamp with time zone
);

--
-- Name: therapist_consents_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.therapist_consents_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

--
-- Name: therapist_consents_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.therapist_consents_id_seq OWNED BY public.therapist_consents.id;

--
-- Name: therapist_links; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.therapist_links (
    id integer NOT NULL,
    therapist_id integer NOT NULL,
    couple_id integer NOT NULL,
    created_at timestamp with time zone NOT NULL,
    ended_at timestamp with time zone,
    plan json,
    plan_starts_on date,
    config json
);

--
-- Name: therapist_links_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.therapist_links_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

--
-- Name: therapist_links_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.therapist_links_id_seq OWNED BY public.therapist_links.id;

--
-- Name: therapists; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.therapists (
    id integer NOT NULL,
    name character varying(100) NOT NULL,
    telegram_user_id bigint,
    chat_id bigint,
    created_at timestamp with time zone NOT NULL,
    registered_at timestamp with time zone,
    revoked_at timestamp with time zone
);

--
-- Name: therapists_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.therapists_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

--
-- Name: therapists_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.therapists_id_seq OWNED BY public.therapists.id;

--
-- Name: appreciations id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.appreciations ALTER COLUMN id SET DEFAULT nextval('public.appreciations_id_seq'::regclass);

--
-- Name: couple_members id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.couple_members ALTER COLUMN id SET DEFAULT nextval('public.couple_members_id_seq'::regclass);

--
-- Name: couples id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.couples ALTER COLUMN id SET DEFAULT nextval('public.couples_id_seq'::regclass);

--
-- Name: deliveries id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deliveries ALTER COLUMN id SET DEFAULT nextval('public.deliveries_id_seq'::regclass);

--
-- Name: invitations id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.invitations ALTER COLUMN id SET DEFAULT nextval('public.invitations_id_seq'::regclass);

--
-- Name: invite_opt_outs id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.invite_opt_outs ALTER COLUMN id SET DEFAULT nextval('public.invite_opt_outs_id_seq'::regclass);

--
-- Name: one_time_tokens id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.one_time_tokens ALTER COLUMN id SET DEFAULT nextval('public.one_time_tokens_id_seq'::regclass);

--
-- Name: people id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.people ALTER COLUMN id SET DEFAULT nextval('public.people_id_seq'::regclass);

--
-- Name: schedules id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schedules ALTER COLUMN id SET DEFAULT nextval('public.schedules_id_seq'::regclass);

--
-- Name: therapist_consents id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.therapist_consents ALTER COLUMN id SET DEFAULT nextval('public.therapist_consents_id_seq'::regclass);

--
-- Name: therapist_links id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.therapist_links ALTER COLUMN id SET DEFAULT nextval('public.therapist_links_id_seq'::regclass);

--
-- Name: therapists id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.therapists ALTER COLUMN id SET DEFAULT nextval('public.therapists_id_seq'::regclass);

--
-- Data for Name: alembic_version; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.alembic_version VALUES ('0001');

--
-- Data for Name: appreciations; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: couple_members; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: couples; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: deliveries; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: invitations; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: invite_opt_outs; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: one_time_tokens; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: people; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: schedules; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: therapist_consents; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: therapist_links; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: therapists; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Name: appreciations_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.appreciations_id_seq', 1, false);

--
-- Name: couple_members_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.couple_members_id_seq', 1, false);

--
-- Name: couples_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.couples_id_seq', 1, false);

--
-- Name: deliveries_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.deliveries_id_seq', 1, false);

--
-- Name: invitations_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.invitations_id_seq', 1, false);

--
-- Name: invite_opt_outs_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.invite_opt_outs_id_seq', 1, false);

--
-- Name: one_time_tokens_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.one_time_tokens_id_seq', 1, false);

--
-- Name: people_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.people_id_seq', 1, false);

--
-- Name: schedules_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.schedules_id_seq', 1, false);

--
-- Name: therapist_consents_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.therapist_consents_id_seq', 1, false);

--
-- Name: therapist_links_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.therapist_links_id_seq', 1, false);

--
-- Name: therapists_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.therapists_id_seq', 1, false);

--
-- Name: alembic_version alembic_version_pkc; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.alembic_version
    ADD CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num);

--
-- Name: appreciations pk_appreciations; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.appreciations
    ADD CONSTRAINT pk_appreciations PRIMARY KEY (id);

--
-- Name: couple_members pk_couple_members; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.couple_members
    ADD CONSTRAINT pk_couple_members PRIMARY KEY (id);

--
-- Name: couples pk_couples; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.couples
    ADD CONSTRAINT pk_couples PRIMARY KEY (id);

--
-- Name: deliveries pk_deliveries; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deliveries
    ADD CONSTRAINT pk_deliveries PRIMARY KEY (id);

--
-- Name: invitations pk_invitations; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.invitations
    ADD CONSTRAINT pk_invitations PRIMARY KEY (id);

--
-- Name: invite_opt_outs pk_invite_opt_outs; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.invite_opt_outs
    ADD CONSTRAINT pk_invite_opt_outs PRIMARY KEY (id);

--
-- Name: one_time_tokens pk_one_time_tokens; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.one_time_tokens
    ADD CONSTRAINT pk_one_time_tokens PRIMARY KEY (id);

--
-- Name: people pk_people; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.people
    ADD CONSTRAINT pk_people PRIMARY KEY (id);

--
-- Name: schedules pk_schedules; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schedules
    ADD CONSTRAINT pk_schedules PRIMARY KEY (id);

--
-- Name: therapist_consents pk_therapist_consents; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.therapist_consents
    ADD CONSTRAINT pk_therapist_consents PRIMARY KEY (id);

--
-- Name: therapist_links pk_therapist_links; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.therapist_links
    ADD CONSTRAINT pk_therapist_links PRIMARY KEY (id);

--
-- Name: therapists pk_therapists; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.therapists
    ADD CONSTRAINT pk_therapists PRIMARY KEY (id);

--
-- Name: couple_members uq_couple_members_person_id; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.couple_members
    ADD CONSTRAINT uq_couple_members_person_id UNIQUE (person_id);

--
-- Name: deliveries uq_deliveries_schedule_id_person_id_due_at; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deliveries
    ADD CONSTRAINT uq_deliveries_schedule_id_person_id_due_at UNIQUE (schedule_id, person_id, due_at);

--
-- Name: invite_opt_outs uq_invite_opt_outs_user_hash; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.invite_opt_outs
    ADD CONSTRAINT uq_invite_opt_outs_user_hash UNIQUE (user_hash);

--
-- Name: one_time_tokens uq_one_time_tokens_token_hash; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.one_time_tokens
    ADD CONSTRAINT uq_one_time_tokens_token_hash UNIQUE (token_hash);

--
-- Name: people uq_people_telegram_user_id; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.people
    ADD CONSTRAINT uq_people_telegram_user_id UNIQUE (telegram_user_id);

--
-- Name: schedules uq_schedules_couple_id_kind; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schedules
    ADD CONSTRAINT uq_schedules_couple_id_kind UNIQUE (couple_id, kind);

--
-- Name: schedules uq_schedules_person_id_kind; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schedules
    ADD CONSTRAINT uq_schedules_person_id_kind UNIQUE (person_id, kind);

--
-- Name: therapist_consents uq_therapist_consents_link_id_person_id; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.therapist_consents
    ADD CONSTRAINT uq_therapist_consents_link_id_person_id UNIQUE (link_id, person_id);

--
-- Name: therapists uq_therapists_telegram_user_id; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.therapists
    ADD CONSTRAINT uq_therapists_telegram_user_id UNIQUE (telegram_user_id);

--
-- Name: ix_deliveries_pending; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_deliveries_pending ON public.deliveries USING btree (status, send_after);

--
-- Name: ix_deliveries_person_kind; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_deliveries_person_kind ON public.deliveries USING btree (person_id, kind, due_at);

--
-- Name: ix_schedules_due; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_schedules_due ON public.schedules USING btree (next_fire_at);

--
-- Name: appreciations fk_appreciations_couple_id_couples; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.appreciations
    ADD CONSTRAINT fk_appreciations_couple_id_couples FOREIGN KEY (couple_id) REFERENCES public.couples(id) ON DELETE SET NULL;

--
-- Name: appreciations fk_appreciations_person_id_people; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.appreciations
    ADD CONSTRAINT fk_appreciations_person_id_people FOREIGN KEY (person_id) REFERENCES public.people(id) ON DELETE CASCADE;

--
-- Name: couple_members fk_couple_members_couple_id_couples; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.couple_members
    ADD CONSTRAINT fk_couple_members_couple_id_couples FOREIGN KEY (couple_id) REFERENCES public.couples(id) ON DELETE CASCADE;

--
-- Name: couple_members fk_couple_members_person_id_people; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.couple_members
    ADD CONSTRAINT fk_couple_members_person_id_people FOREIGN KEY (person_id) REFERENCES public.people(id) ON DELETE CASCADE;

--
-- Name: couples fk_couples_proposed_by_id_people; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.couples
    ADD CONSTRAINT fk_couples_proposed_by_id_people FOREIGN KEY (proposed_by_id) REFERENCES public.people(id) ON DELETE SET NULL;

--
-- Name: deliveries fk_deliveries_person_id_people; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deliveries
    ADD CONSTRAINT fk_deliveries_person_id_people FOREIGN KEY (person_id) REFERENCES public.people(id) ON DELETE CASCADE;

--
-- Name: deliveries fk_deliveries_schedule_id_schedules; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deliveries
    ADD CONSTRAINT fk_deliveries_schedule_id_schedules FOREIGN KEY (schedule_id) REFERENCES public.schedules(id) ON DELETE SET NULL;

--
-- Name: invitations fk_invitations_initiator_id_people; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.invitations
    ADD CONSTRAINT fk_invitations_initiator_id_people FOREIGN KEY (initiator_id) REFERENCES public.people(id) ON DELETE CASCADE;

--
-- Name: invitations fk_invitations_recipient_id_people; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.invitations
    ADD CONSTRAINT fk_invitations_recipient_id_people FOREIGN KEY (recipient_id) REFERENCES public.people(id) ON DELETE SET NULL;

--
-- Name: one_time_tokens fk_one_time_tokens_person_id_people; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.one_time_tokens
    ADD CONSTRAINT fk_one_time_tokens_person_id_people FOREIGN KEY (person_id) REFERENCES public.people(id) ON DELETE CASCADE;

--
-- Name: one_time_tokens fk_one_time_tokens_therapist_id_therapists; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.one_time_tokens
    ADD CONSTRAINT fk_one_time_tokens_therapist_id_therapists FOREIGN KEY (therapist_id) REFERENCES public.therapists(id) ON DELETE CASCADE;

--
-- Name: schedules fk_schedules_couple_id_couples; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schedules
    ADD CONSTRAINT fk_schedules_couple_id_couples FOREIGN KEY (couple_id) REFERENCES public.couples(id) ON DELETE CASCADE;

--
-- Name: schedules fk_schedules_person_id_people; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schedules
    ADD CONSTRAINT fk_schedules_person_id_people FOREIGN KEY (person_id) REFERENCES public.people(id) ON DELETE CASCADE;

--
-- Name: schedules fk_schedules_therapist_id_therapists; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schedules
    ADD CONSTRAINT fk_schedules_therapist_id_therapists FOREIGN KEY (therapist_id) REFERENCES public.therapists(id) ON DELETE SET NULL;

--
-- Name: therapist_consents fk_therapist_consents_link_id_therapist_links; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.therapist_consents
    ADD CONSTRAINT fk_therapist_consents_link_id_therapist_links FOREIGN KEY (link_id) REFERENCES public.therapist_links(id) ON DELETE CASCADE;

--
-- Name: therapist_consents fk_therapist_consents_person_id_people; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.therapist_consents
    ADD CONSTRAINT fk_therapist_consents_person_id_people FOREIGN KEY (person_id) REFERENCES public.people(id) ON DELETE CASCADE;

--
-- Name: therapist_links fk_therapist_links_couple_id_couples; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.therapist_links
    ADD CONSTRAINT fk_therapist_links_couple_id_couples FOREIGN KEY (couple_id) REFERENCES public.couples(id) ON DELETE CASCADE;

--
-- Name: therapist_links fk_therapist_links_therapist_id_therapists; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.therapist_links
    ADD CONSTRAINT fk_therapist_links_therapist_id_therapists FOREIGN KEY (therapist_id) REFERENCES public.therapists(id) ON DELETE CASCADE;

--
-- PostgreSQL database dump complete
--
