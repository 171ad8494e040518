/** Ladder diagrams of calls: layout, text and Mermaid renderings. */
export { buildLadder, type Ladder, type Lifeline, type Arrow } from './ladder.js';
export { renderText, arrowLabel } from './text.js';
export { renderMermaid } from './mermaid.js';
