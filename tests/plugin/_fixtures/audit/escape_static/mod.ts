// Escapes its folder with a static import.
import { outside } from "../shared/outside.ts";

export default outside;
