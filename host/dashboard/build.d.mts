export declare const UI_DIR: string;
export declare const OUT_DIR: string;
export declare const FILES: readonly string[];
export declare function isStale(outDir?: string): boolean;
export declare function buildDashboard(outDir?: string): Promise<number>;
