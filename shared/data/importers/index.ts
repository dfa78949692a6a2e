export type { ImageSink, ImportedImageMeta, ImportReport, SkippedFile, SourceFormat, ImportOptionsBase } from './types.js';
export { importFolder, resolveClassName, type FolderImportOptions } from './folder.js';
export { importCsv, parseCsv, type CsvImportOptions, type CsvColumns, type CsvRowContext } from './csv.js';
export { importCovidCollection, mapCovidCollectionFinding, isFrontalView, COVID_COLLECTION_OPTIONS } from './covid-collection.js';
export { decodeImageFile, sniffFormat, type DecodedFile } from './decode.js';
