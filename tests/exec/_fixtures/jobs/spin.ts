/** Loops forever in synchronous code: no signal, no timer, no message can stop it. */
export default function spin(): never {
  for (;;) {
    // spin
  }
}
