import { parentPort } from 'node:worker_threads';
const x: number = 41;
parentPort!.postMessage({ answer: x + 1, execArgv: process.execArgv });
