/**
 * The library's schema, as numbered migrations. A database records the last one applied in
 * `PRAGMA user_version`; opening it applies the rest in one transaction each. Never edit a shipped
 * migration: add the next one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: users, images with curation, tags, collections, comparisons, full-text search, jobs.
  `
  CREATE TABLE users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
    password_hash TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
  );
  CREATE TABLE images (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users(id),
    sha256 TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    prompt TEXT NOT NULL DEFAULT '',
    negative_prompt TEXT NOT NULL DEFAULT '',
    model TEXT,
    model_hash TEXT,
    sampler TEXT,
    seed INTEGER,
    steps INTEGER,
    cfg_scale REAL,
    recipe TEXT,
    parameters_text TEXT,
    origin TEXT NOT NULL CHECK (origin IN ('generated', 'imported')),
    provenance TEXT NOT NULL DEFAULT '{}',
    parent_sha256 TEXT,
    job_id TEXT,
    job_index INTEGER,
    rating INTEGER CHECK (rating BETWEEN 1 AND 5),
    rejected INTEGER NOT NULL DEFAULT 0,
    favourite INTEGER NOT NULL DEFAULT 0,
    note TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    deleted_at INTEGER,
    UNIQUE (job_id, job_index)
  );
  CREATE INDEX images_user_newest ON images (user_id, deleted_at, seq);
  CREATE INDEX images_user_created ON images (user_id, created_at);
  CREATE INDEX images_user_model ON images (user_id, model, seq);
  CREATE INDEX images_user_sampler ON images (user_id, sampler, seq);
  CREATE INDEX images_user_rating ON images (user_id, rating, seq);
  CREATE INDEX images_sha256 ON images (sha256);
  CREATE INDEX images_parent ON images (parent_sha256);
  CREATE TABLE tags (
    image_seq INTEGER NOT NULL REFERENCES images(seq),
    tag TEXT NOT NULL,
    PRIMARY KEY (image_seq, tag)
  ) WITHOUT ROWID;
  CREATE INDEX tags_tag ON tags (tag, image_seq);
  CREATE TABLE collections (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (user_id, name)
  );
  CREATE TABLE collection_items (
    collection_id TEXT NOT NULL REFERENCES collections(id),
    image_seq INTEGER NOT NULL REFERENCES images(seq),
    added_at INTEGER NOT NULL,
    PRIMARY KEY (collection_id, image_seq)
  ) WITHOUT ROWID;
  CREATE INDEX collection_items_image ON collection_items (image_seq);
  CREATE TABLE collection_members (
    collection_id TEXT NOT NULL REFERENCES collections(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    role TEXT NOT NULL CHECK (role IN ('editor', 'viewer')),
    PRIMARY KEY (collection_id, user_id)
  ) WITHOUT ROWID;
  CREATE TABLE comparisons (
    id INTEGER PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    a_id TEXT NOT NULL,
    b_id TEXT NOT NULL,
    winner TEXT NOT NULL CHECK (winner IN ('a', 'b', 'tie')),
    created_at INTEGER NOT NULL
  );
  CREATE VIRTUAL TABLE images_fts USING fts5(prompt, negative_prompt, note, tags, tokenize = 'unicode61');
  CREATE TABLE jobs (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    payload TEXT NOT NULL,
    result TEXT,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    progress TEXT,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER
  );
  CREATE INDEX jobs_state ON jobs (state, user_id, priority, seq);
  CREATE INDEX jobs_user_started ON jobs (user_id, started_at);
  `,
  // 2: the training-data register: datasets, each file's source, licence and hash, models' datasets.
  `
  CREATE TABLE datasets (
    id TEXT PRIMARY KEY,
    registered_at INTEGER NOT NULL,
    registered_by TEXT NOT NULL,
    decision TEXT CHECK (decision IN ('include', 'exclude')),
    decided_by TEXT,
    decided_at INTEGER
  );
  CREATE TABLE dataset_files (
    dataset_id TEXT NOT NULL REFERENCES datasets(id),
    file TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    source TEXT NOT NULL,
    licence TEXT NOT NULL,
    licence_status TEXT NOT NULL CHECK (licence_status IN ('open', 'restrictive', 'unknown')),
    PRIMARY KEY (dataset_id, file)
  ) WITHOUT ROWID;
  CREATE TABLE model_datasets (
    model_id TEXT NOT NULL,
    dataset_id TEXT NOT NULL REFERENCES datasets(id),
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (model_id, dataset_id)
  ) WITHOUT ROWID;
  `,
];
