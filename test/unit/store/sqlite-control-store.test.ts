import { describe } from 'node:test';
import { SqliteControlStore } from '../../../src/store/sqlite/sqlite-control-store.js';
import { tempDir } from '../../support/gateway-process.js';
import { controlStoreBehaviour } from './control-store-behaviour.js';

describe('SqliteControlStore', () => {
  controlStoreBehaviour(async () => SqliteControlStore.open(tempDir()));
});
