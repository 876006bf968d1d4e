export { StreamOwnership, handBackDelayMs, HAND_BACK_WHILE_EXPIRING_MS, type Admission, type LeaseEvent, type OwnershipHooks, type OwnershipOptions } from './ownership.ts';
export { chosenOwner, fairShare, preference, streamsToHandOver, type LocalView } from './balance.ts';
