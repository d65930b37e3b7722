// Escapes its folder with a string-literal dynamic import.
const { outside } = await import("../shared/outside.ts");

export default outside;
