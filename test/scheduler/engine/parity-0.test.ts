// Engine parity, cases 0–4999 of 10,000 (two files so tap runs the halves in parallel).
import t from 'tap';
import { runParity } from './fixtures/parity.js';

t.test('generated clusters give identical schedule and explain results in both engines', (t) => runParity(t, 0, 5000));
