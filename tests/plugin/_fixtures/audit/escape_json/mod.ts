// Reads a file outside its folder through a JSON import.
import secret from "../shared/secret.json" with { type: "json" };

export default secret;
