# SSBD datasets (figures) → parts of the study, with organism, strain, cell line, GO terms, genetics,
# reagents, imaging method and instrument, image dimensions, and OME-Zarr copies.
PREFIX ssbd: <http://ssbd.riken.jp/ontology/>
PREFIX schema: <http://schema.org/>
PREFIX kg: <https://w3id.org/gide-kg/vocab#>
PREFIX bao: <http://www.bioassayontology.org/bao#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
INSERT { GRAPH ?g { ?study schema:hasPart ?ds . ?ds a kg:SsbdDataset ; schema:isPartOf ?study ; schema:name ?title ; kg:figure ?fig } }
WHERE { GRAPH ?g { ?study kg:ssbdProject ?p . ?p ssbd:has_dataset_output ?ds .
  OPTIONAL { ?ds ssbd:has_dataset_title ?title } OPTIONAL { ?ds ssbd:has_figure_number ?fig } } };
INSERT { GRAPH ?g { ?ds kg:organism ?org . ?study kg:organism ?org } }
WHERE { GRAPH ?g { ?study schema:hasPart ?ds . ?ds ssbd:has_biosample_information/ssbd:is_about_organism ?org } };
INSERT { GRAPH ?g { ?ds kg:strain ?strain . ?study kg:strain ?strain . ?strain a kg:Strain ; rdfs:label ?label ; schema:url ?url } }
WHERE { GRAPH ?g { ?study schema:hasPart ?ds . ?ds ssbd:has_biosample_information/ssbd:is_about_strain ?strain .
  OPTIONAL { ?strain rdfs:label ?label } OPTIONAL { ?strain ssbd:has_strain_URL ?url } } };
INSERT { GRAPH ?g { ?ds bao:BAO_0002004 ?line . ?study bao:BAO_0002004 ?line } }
WHERE { GRAPH ?g { ?study schema:hasPart ?ds . ?ds ssbd:has_biosample_information/ssbd:is_about_cell_line ?line } };
INSERT { GRAPH ?g { ?ds schema:about ?go . ?study schema:about ?go } }
WHERE { GRAPH ?g { ?study schema:hasPart ?ds . VALUES ?p { ssbd:is_about_GO_cc ssbd:is_about_GO_bp ssbd:is_about_GO_mf ssbd:is_about_cell }
  ?ds ssbd:has_biosample_information ?bs . ?bs ?p ?go } };
INSERT { GRAPH ?g { ?ds kg:geneticBackground ?gen . ?gen a kg:GeneticInformation ; kg:tag ?tag ; kg:geneName ?gene ; kg:proteinName ?protein } }
WHERE { GRAPH ?g { ?study schema:hasPart ?ds . ?ds ssbd:has_biosample_information/ssbd:has_genetic_information ?gen .
  OPTIONAL { ?gen ssbd:has_tag|ssbd:has_tag2 ?tag } OPTIONAL { ?gen ssbd:has_gene_name ?gene } OPTIONAL { ?gen ssbd:has_protein_name ?protein } } };
INSERT { GRAPH ?g { ?ds kg:reagent ?r . ?r a kg:Reagent ; schema:name ?name } }
WHERE { GRAPH ?g { ?study schema:hasPart ?ds . ?ds ssbd:has_biosample_information/ssbd:has_reagent_information ?r .
  OPTIONAL { ?r ssbd:has_reagent_name|ssbd:has_reagent_name_2 ?name } } };
# Imaging method: SSBD spells the predicate three ways (has_imaging_method_recorded_type, _mehod_, _rcorded_).
INSERT { GRAPH ?g { ?ds kg:imagingMethod ?m . ?study kg:imagingMethod ?m } }
WHERE { GRAPH ?g { ?study schema:hasPart ?ds . ?ds ssbd:has_imaging_method_total_info ?im .
  ?im ssbd:has_imaging_method_recorded_type|ssbd:has_imaging_mehod_recorded_type|ssbd:has_imaging_method_rcorded_type ?m } };
INSERT { GRAPH ?g { ?ds schema:labEquipment ?body ; kg:objective ?obj ; kg:detector ?det ; kg:lightSource ?light } }
WHERE { GRAPH ?g { ?study schema:hasPart ?ds . ?ds ssbd:has_imaging_method_total_info ?im .
  OPTIONAL { ?im ssbd:has_body ?body }
  OPTIONAL { ?im ssbd:has_instrument_information ?inst . OPTIONAL { ?inst ssbd:has_objective ?obj } OPTIONAL { ?inst ssbd:has_detector ?det }
             OPTIONAL { ?inst ssbd:has_light_source ?light } } } };
INSERT { GRAPH ?g { ?ds kg:dimensions ?dims ; kg:channels ?c ; kg:xScale ?x ; kg:yScale ?y ; kg:zScale ?z ; kg:tScale ?t } }
WHERE { GRAPH ?g { ?study schema:hasPart ?ds . ?ds ssbd:has_dimension_information ?d .
  OPTIONAL { ?d ssbd:has_dimensions ?dims } OPTIONAL { ?d ssbd:has_channel_number ?c } OPTIONAL { ?d ssbd:has_x_scale ?x }
  OPTIONAL { ?d ssbd:has_y_scale ?y } OPTIONAL { ?d ssbd:has_z_scale ?z } OPTIONAL { ?d ssbd:has_t_scale ?t } } };
# OME-Zarr copies as schema:DataDownload distributions.
INSERT { GRAPH ?g { ?ds schema:distribution ?z . ?z a schema:DataDownload ; schema:encodingFormat "OME-Zarr" ;
  schema:contentUrl ?url ; kg:viewerUrl ?viz ; schema:thumbnailUrl ?thumb ; kg:axes ?axes ;
  kg:sizeX ?sx ; kg:sizeY ?sy ; kg:sizeZ ?sz ; kg:sizeC ?sc ; kg:sizeT ?st ; schema:license ?lic } }
WHERE { GRAPH ?g { ?study schema:hasPart ?ds . ?ds ssbd:has_ome_zarr_information ?z .
  OPTIONAL { ?z ssbd:has_s3_endpoint ?s3 BIND(IRI(STR(?s3)) AS ?url) } OPTIONAL { ?z ssbd:has_vizarr_url ?v BIND(IRI(STR(?v)) AS ?viz) }
  OPTIONAL { ?z ssbd:has_thumbnail_url ?th BIND(IRI(STR(?th)) AS ?thumb) } OPTIONAL { ?z ssbd:has_axes ?axes }
  OPTIONAL { ?z ssbd:has_size_x ?sx } OPTIONAL { ?z ssbd:has_size_y ?sy } OPTIONAL { ?z ssbd:has_size_z ?sz }
  OPTIONAL { ?z ssbd:has_size_c ?sc } OPTIONAL { ?z ssbd:has_size_t ?st } OPTIONAL { ?z ssbd:has_license ?lic } } }
