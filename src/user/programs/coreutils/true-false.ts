/** `true` and `false`: exit 0 and 1. */
import { defineProgram } from '../../libc/program.js';

/** The program `true`. */
export const trueMain = defineProgram(function* trueProgram() {
  return 0;
});

/** The program `false`. */
export const falseMain = defineProgram(function* falseProgram() {
  return 1;
});
