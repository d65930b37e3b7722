// A module that throws while it is evaluated.
throw new Error("broken at import");
