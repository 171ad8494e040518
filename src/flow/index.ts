/** Ladder diagrams of calls: layout, text, Mermaid, SVG and HTML renderings. */
export { buildLadder, type Ladder, type Lifeline, type Arrow } from './ladder.js';
export { renderText, arrowLabel } from './text.js';
export { renderMermaid } from './mermaid.js';
export { renderSvg, escapeXml, legColour, LEG_COLOURS, type SvgOptions } from './svg.js';
export { renderHtml } from './html.js';
