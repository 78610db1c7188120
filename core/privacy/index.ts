export { clearAttributes, erasedText, isPersonalAttribute, personalAttributeNames, type PersonalFields } from './personal-fields.ts';
export { erasedFields, openPersonalFields, sealPersonalFields, sealedKeyId, type SealBinding } from './sealed-fields.ts';
export { SubjectKeyring, subjectKeyOf, type SubjectKey, type SubjectRef, type WrappedSubjectKey } from './subject-keyring.ts';
export { openActivityFields, storedActivityFields, type StoredActivityFields, type StoredActivityRow } from './activity-reader.ts';
