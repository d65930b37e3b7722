/** Reports whether its worker may read the environment. */
export default function env(): string {
  return Deno.permissions.querySync({ name: "env" }).state;
}
