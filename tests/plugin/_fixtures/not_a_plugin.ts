// A module whose default export is not a definePlugin() result.
export default { init() {} };
