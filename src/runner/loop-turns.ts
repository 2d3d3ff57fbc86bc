/**
 * A count of the event loop's turns, kept only while someone asks: the first read in a turn
 * schedules one `setImmediate` that moves the count on. The runner uses it to tell an agent that
 * produces in a burst (many events in one turn: it must yield so sockets get written) from one
 * whose events are already paced by timers or I/O (each in its own turn: yielding again would only
 * add a hop per event).
 *
 * @module
 */

let turn = 0;
let scheduled = false;

/**
 * Moves the count on: the scheduled immediate calls it, and so does a caller that has just awaited
 * a `setImmediate` itself, which also heals a count whose immediate never ran (fake timers
 * installed, then removed).
 */
export function turnPassed(): void {
  turn++;
  scheduled = false;
}

/** The current turn's number; it changes once the loop has gone round (through its check phase). */
export function currentTurn(): number {
  if (!scheduled) {
    scheduled = true;
    setImmediate(turnPassed);
  }
  return turn;
}
