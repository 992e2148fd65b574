// Every clipanion command sbx registers, one file each. Add new commands here.
import type { CommandClass } from 'clipanion';
import { RunCommand } from './run.js';
import { DoctorCommand } from './doctor.js';

export const commands: CommandClass[] = [
  RunCommand,
  DoctorCommand,
];
