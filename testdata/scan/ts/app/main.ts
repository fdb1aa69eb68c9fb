import './assay_capture.mjs';
import { work } from './worker.js';
await work();
