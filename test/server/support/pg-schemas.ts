/** Throwaway schemas on the test PostgreSQL (127.0.0.1:5432, or OMADM_TEST_PG), dropped together after the file. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_URL = process.env['OMADM_TEST_PG'] ?? 'postgres://postgres@127.0.0.1:5432/test';

export class PgSchemas {
  readonly #created: string[] = [];

  /** Creates a schema with a random name and returns the name. */
  async create(): Promise<string> {
    const schema = `omadm_test_${randomBytes(6).toString('hex')}`;
    this.#created.push(schema);
    await this.#admin(`CREATE SCHEMA "${schema}"`);
    return schema;
  }

  /** Drops every schema this instance created (for afterAll). */
  async dropAll(): Promise<void> {
    for (const schema of this.#created.splice(0))
      await this.#admin(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }

  async #admin(sql: string): Promise<void> {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }
}
