// What a repository function needs to run a statement: the pool, or the client of a transaction under way.
import type pg from 'pg';

export type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;
