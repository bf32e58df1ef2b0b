"""The JSON-LD context of BioImage Archive RO-Crates: the RO-Crate 1.1 context by reference
(as the RO-Crate specification requires) and the BIA profile's own terms inline.

The terms are those of the BIA RO-Crate profile as bia-ro-crate-validator 0.3.1 defines them;
the validator refuses a crate that maps any of them differently, and the package test runs it.
"""

from __future__ import annotations

from typing import Any

RO_CRATE_CONTEXT = "https://w3id.org/ro/crate/1.1/context"
RO_CRATE_PROFILE = "https://w3id.org/ro/crate/1.1"

BIA_TERMS: dict[str, Any] = {
    "@type": {"@container": "@set"},
    "accessionId": {"@id": "bia:accessionId"},
    "acknowledgement": {"@id": "bia:acknowledgement"},
    "additionalType": {"@id": "schema:additionalType"},
    "address": {"@id": "schema:address"},
    "annotationCoverage": {"@id": "bia:annotationCoverage"},
    "annotationCriteria": {"@id": "bia:annotationCriteria"},
    "annotationMethod": {"@id": "bia:annotationMethod", "@container": "@set"},
    "annotationSourceIndicator": {"@id": "bia:annotationSourceIndicator"},
    "associatedAnnotationMethod": {"@id": "bia:associatedAnnotationMethod", "@container": "@set"},
    "associatedBiologicalEntity": {"@id": "bia:associatedBiologicalEntity", "@container": "@set"},
    "associatedCreationProcess": {"@id": "bia:associatedCreationProcess"},
    "associatedImageAcquisitionProtocol": {
        "@id": "bia:associatedImageAcquisitionProtocol",
        "@container": "@set",
    },
    "associatedImageAnalysisMethod": {"@id": "bia:associatedAnalysisMethod", "@container": "@set"},
    "associatedImageCorrelationMethod": {"@id": "bia:associatedCorrelationMethod", "@container": "@set"},
    "associatedProtocol": {"@id": "bia:associatedProtocol", "@container": "@set"},
    "associatedSourceImage": {"@id": "bia:associatedSourceImage", "@container": "@set"},
    "associatedSpecimen": {"@id": "bia:associatedSubject"},
    "associatedSpecimenImagingPreparationProtocol": {
        "@id": "bia:associatedImagingPreparationProtocol",
        "@container": "@set",
    },
    "author": {"@id": "schema:author", "@container": "@set"},
    "authorNames": {"@id": "bia:authorNames"},
    "bia": "http://bia/",
    "biologicalEntity": {"@id": "bia:sampleOf", "@container": "@set"},
    "channelBiologicalEntity": {"@id": "bia:channelBiologicalEntity"},
    "channelContentDescription": {"@id": "bia:channelContentDescription"},
    "column": {"@id": "csvw:column", "@container": "@set"},
    "columnName": {"@id": "csvw:name"},
    "commonName": {"@id": "http://rs.tdwg.org/dwc/terms/vernacularName"},
    "csvw": "http://www.w3.org/ns/csvw#",
    "datePublished": {"@id": "schema:datePublished"},
    "dc": "http://purl.org/dc/terms/",
    "description": {"@id": "schema:description"},
    "doi": {"@id": "bia:doi"},
    "email": {"@id": "schema:email"},
    "experimentalVariableDescription": {"@id": "bia:experimentalVariableDescription", "@container": "@set"},
    "extrinsicVariableDescription": {"@id": "bia:extrinsicVariableDescription", "@container": "@set"},
    "fbbiId": {"@id": "bia:fbbiId", "@container": "@set"},
    "featuresAnalysed": {"@id": "bia:featuresAnalysed"},
    "fiducialsUsed": {"@id": "bia:fiducialsUsed"},
    "funder": {"@id": "schema:funder", "@container": "@set"},
    "funding": {"@id": "schema:funding", "@container": "@set"},
    "fundingStatement": {"@id": "bia:fundingStatement"},
    "growthProtocol": {"@id": "bia:growthProtocol"},
    "hasPart": {"@id": "schema:hasPart", "@container": "@set"},
    "identifier": {"@id": "schema:identifier"},
    "imageAcquisitionProtocol": {"@id": "bia:imageAcquisitionProtocol", "@container": "@set"},
    "imagingInstrumentDescription": {"@id": "bia:imagingInstrumentDescription"},
    "imagingMethodName": {"@id": "bia:imagingMethodName", "@container": "@set"},
    "imagingPreparationProtocol": {"@id": "bia:imagingPreparationProtocol", "@container": "@set"},
    "inputImage": {"@id": "bia:inputImage", "@container": "@set"},
    "intrinsicVariableDescription": {"@id": "bia:intrinsicVariableDescription", "@container": "@set"},
    "keywords": {"@id": "schema:keywords", "@container": "@set"},
    "license": {"@id": "schema:license"},
    "memberOf": {"@id": "schema:memberOf", "@container": "@set"},
    "methodType": {"@id": "bia:annotationMethodType", "@container": "@set"},
    "name": {"@id": "schema:name"},
    "organismClassification": {"@id": "schema:taxonomicRange", "@container": "@set"},
    "propertyUrl": {"@id": "csvw:propertyUrl"},
    "protocol": {"@id": "bia:protocol", "@container": "@set"},
    "pubmedId": {"@id": "bia:pubmedId"},
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "relatedPublication": {"@id": "bia:relatedPublication", "@container": "@set"},
    "resultOf": {"@id": "bia:resultOf"},
    "role": {"@id": "bia:role", "@container": "@set"},
    "schema": "http://schema.org/",
    "scientificName": {"@id": "http://rs.tdwg.org/dwc/terms/scientificName"},
    "seeAlso": {"@id": "http://www.w3.org/2000/01/rdf-schema#seeAlso", "@container": "@set"},
    "signalChannelInformation": {"@id": "bia:signalChannelInformation", "@container": "@set"},
    "signalContrastMechanismDescription": {"@id": "bia:signalContrastMechanismDescription"},
    "spatialInformation": {"@id": "bia:spatialInformation"},
    "subject": {"@id": "bia:subject"},
    "tableSchema": {"@id": "csvw:tableSchema"},
    "transformationDescription": {"@id": "bia:transformationDescription"},
    "transformationMatrix": {"@id": "bia:transformationMatrix"},
    "website": {"@id": "bia:website"},
    "yearPublished": {"@id": "bia:yearPublished"},
}

CONTEXT: list[Any] = [RO_CRATE_CONTEXT, BIA_TERMS]

# Property IRIs of the file list's columns (csvw:propertyUrl).
FILE_PATH = "http://bia/filePath"
PART_OF = "http://schema.org/isPartOf"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SIZE_IN_BYTES = "http://bia/sizeInBytes"
IMAGE = "http://bia/Image"
FILE_REFERENCE = "http://bia/FileReference"
