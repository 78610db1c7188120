export { companySuffix, companyWords, firstNames, lastNames, pick, random } from './seeded-data.ts';
