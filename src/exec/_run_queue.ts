// Admission and queueing for the executor: the per-task and global caps, the
// overflow policies, the deferred list and the EDF ready queue, with pooled
// jobs. Each task has at most one job in the EDF queue (its `ready` job);
// its later releases wait in its `pending` list, oldest first, so a task's
// runs stay serial and in release order.

import { EdfQueue } from "./_edf_queue.ts";
import { type Job, newDropCounts, type TaskRecord } from "./_task_record.ts";
import type { DropReason } from "./task.ts";

/** The executor's waiting releases. */
export class RunQueue {
  /** Releases queued plus running: what `maxRunnable` caps. */
  runnable = 0;
  /** Dropped releases by reason, all tasks. */
  readonly dropped: Record<DropReason, number> = newDropCounts();
  readonly #ready = new EdfQueue<Job>();
  readonly #deferred: Job[] = [];
  readonly #pool: Job[] = [];
  readonly #maxRunnable: number;
  readonly #deferCap: number;
  readonly #onReady: () => void;
  #seq = 0;

  /**
   * @param maxRunnable The global cap on runnable releases.
   * @param deferCap The cap on deferred releases.
   * @param onReady Called when a job enters the EDF queue.
   */
  constructor(maxRunnable: number, deferCap: number, onReady: () => void) {
    this.#maxRunnable = maxRunnable;
    this.#deferCap = deferCap;
    this.#onReady = onReady;
  }

  /** Jobs in the EDF queue. */
  get readyCount(): number {
    return this.#ready.size;
  }

  /** Releases deferred now. */
  get deferredCount(): number {
    return this.#deferred.length;
  }

  /** A job from the pool, stamped with the next release order. */
  job(task: TaskRecord, release: number, event: unknown, attempt: number): Job {
    const job = this.#pool.pop() ?? {
      task,
      release: 0,
      deadline: 0,
      priority: 0,
      seq: 0,
      heapIndex: -1,
      event: undefined,
      attempt: 0,
    };
    job.task = task;
    job.release = release;
    job.deadline = release + task.deadlineMs;
    job.priority = task.priority;
    job.seq = this.#seq++;
    job.heapIndex = -1;
    job.event = event;
    job.attempt = attempt;
    return job;
  }

  /** Returns a finished or dropped job to the pool. */
  free(job: Job): void {
    job.event = undefined;
    this.#pool.push(job);
  }

  /** The job that runs next, out of the EDF queue. */
  pop(): Job | undefined {
    return this.#ready.pop();
  }

  /** Queues a new release if the caps allow, else applies the task's overflow policy. */
  admit(job: Job): void {
    const task = job.task;
    const queued = task.pending.length + (task.ready === undefined ? 0 : 1);
    const overTask = queued + task.deferredNow >= task.queueCap;
    const overGlobal = !overTask && this.runnable >= this.#maxRunnable;
    if (overTask || overGlobal) {
      const reason: DropReason = overTask ? "task-cap" : "global-cap";
      if (task.overflow === "defer" && overGlobal) {
        if (this.#deferred.length >= this.#deferCap) {
          this.drop(task, "defer-cap", job);
          return;
        }
        task.deferred++;
        task.deferredNow++;
        this.#deferred.push(job);
        return;
      }
      if (task.overflow === "drop-oldest" && queued > 0) {
        this.drop(task, reason, this.#removeOldest(task));
      } else {
        this.drop(task, reason, job);
        return;
      }
    }
    this.runnable++;
    this.#enqueue(job);
  }

  /** Queues a retry: over no cap, it replaces the run that failed. */
  requeue(job: Job): void {
    this.runnable++;
    this.#enqueue(job);
  }

  /** After a task's run: its oldest pending release becomes its ready job. */
  promote(task: TaskRecord): void {
    if (task.terminal || task.ready !== undefined) return;
    const next = task.pending.shift();
    if (next === undefined) return;
    task.ready = next;
    task.state = "ready";
    this.#ready.push(next);
  }

  /** Moves deferred releases, oldest first, into the queue while there is room. */
  admitDeferred(): void {
    while (this.#deferred.length > 0 && this.runnable < this.#maxRunnable) {
      const job = this.#deferred.shift()!;
      const task = job.task;
      task.deferredNow--;
      if (task.terminal) {
        this.drop(task, "stopped", job);
        continue;
      }
      this.runnable++;
      this.#enqueue(job);
    }
  }

  /**
   * Drops every release of a task that waits (queued or deferred).
   *
   * @returns How many were dropped.
   */
  dropWaiting(task: TaskRecord): number {
    let dropped = 0;
    const ready = task.ready;
    if (ready !== undefined) {
      this.#ready.remove(ready);
      task.ready = undefined;
      this.runnable--;
      this.drop(task, "stopped", ready);
      dropped++;
    }
    for (const job of task.pending.splice(0)) {
      this.runnable--;
      this.drop(task, "stopped", job);
      dropped++;
    }
    for (let i = this.#deferred.length - 1; i >= 0; i--) {
      const job = this.#deferred[i]!;
      if (job.task === task) {
        this.#deferred.splice(i, 1);
        task.deferredNow--;
        this.drop(task, "stopped", job);
        dropped++;
      }
    }
    return dropped;
  }

  /**
   * Drops every deferred release, all tasks.
   *
   * @returns How many were dropped.
   */
  dropDeferred(): number {
    const deferred = this.#deferred.splice(0);
    for (const job of deferred) {
      job.task.deferredNow--;
      this.drop(job.task, "stopped", job);
    }
    return deferred.length;
  }

  /** Counts a dropped job and returns it to the pool. */
  drop(task: TaskRecord, reason: DropReason, job: Job): void {
    this.countDrop(task, reason);
    this.free(job);
  }

  /** Counts a release dropped for `reason`. */
  countDrop(task: TaskRecord, reason: DropReason): void {
    task.dropped[reason]++;
    this.dropped[reason]++;
  }

  #enqueue(job: Job): void {
    const task = job.task;
    if (task.ready === undefined && !task.running) {
      task.ready = job;
      task.state = "ready";
      this.#ready.push(job);
      this.#onReady();
    } else {
      task.pending.push(job);
      if (!task.running) task.state = "ready";
    }
  }

  /** Removes and returns the task's oldest waiting job. */
  #removeOldest(task: TaskRecord): Job {
    const ready = task.ready;
    this.runnable--;
    if (ready === undefined) return task.pending.shift()!;
    this.#ready.remove(ready);
    task.ready = undefined;
    const next = task.pending.shift();
    if (next !== undefined) {
      task.ready = next;
      this.#ready.push(next);
    }
    return ready;
  }
}
